import { afterEach, describe, expect, it } from '@jest/globals';
import type { ExecutionRecord } from '../../engine';
import type { Dependencies } from '../../functions/shared/dependencies';
import { signedWebhookHeaders } from '../../functions/shared/domain/webhook';
import { startWebhookServer, type WebhookServer } from '../../local-stack/webhook-server';
import {
  LEDGER,
  PAYMENTS,
  startSyncStack,
  type SyncedService,
  type SyncStack,
  type SyncStackOptions,
} from '../support/sync-run';

let s: SyncStack | undefined;
let server: WebhookServer | undefined;

const open = async (options: SyncStackOptions = {}) => {
  s = await startSyncStack(options);
  server = await startWebhookServer({ handler: s.stack.webhookHandler, port: 0 });
  const [key] = await s.stack.deps.webhookKeys.keys();
  const url = server.url;
  /** A signed delivery for one of the target's secrets (payments' by default); resolves with the status. */
  const deliver = async (deliveryId: string, secret: string, target: SyncedService = PAYMENTS) => {
    const body = JSON.stringify({ deliveryId, event: 'secret.updated', secret, services: [target.service] });
    const response = await fetch(url, {
      method: 'POST',
      headers: signedWebhookHeaders(key as Uint8Array, body, new Date()),
      body,
    });
    await response.text();
    return response.status;
  };
  return { s, deliver };
};
afterEach(async () => {
  await server?.close();
  await s?.close();
  server = undefined;
  s = undefined;
});

/** A promise to wait on and the function that ends the wait. */
const gate = () => {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
};

/** The most executions that ran at once, from their start and stop times. */
const peakOverlap = (runs: ExecutionRecord[]) =>
  Math.max(
    0,
    ...runs.map(
      (r) =>
        runs.filter(
          (o) =>
            Date.parse(o.startDate) <= Date.parse(r.startDate) &&
            Date.parse(o.stopDate) > Date.parse(r.startDate),
        ).length,
    ),
  );

describe('local stack: webhook syncs go through a bounded queue', () => {
  it('runs at most the configured syncs at once and folds the repeated changes of a queued secret', async () => {
    const { s, deliver } = await open({ webhookSyncConcurrency: 1 });
    const held = gate();
    s.keywhiz.beforeAnswer = () => held.opened;
    const changes = [
      [PAYMENTS, 'Database_Password'],
      [LEDGER, 'ledger.pgpass'],
    ] as const;
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [target, secret] of changes) {
        s.writeSecret(target, secret, `${secret} value ${round}`);
        statuses.push(await deliver(`burst-${secret}-${round}`, secret, target));
      }
    }
    expect(statuses).toEqual(Array(6).fill(202));
    // The first sync is held inside Keywhiz; one sync per secret waits, holding every later change of it.
    expect(s.stack.webhookSyncs()).toMatchObject({
      received: 6,
      started: 1,
      running: 1,
      queued: 2,
      coalesced: 3,
    });
    held.open();
    const runs = await s.stack.settled();

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(peakOverlap(runs)).toBe(1);
    expect(s.stack.webhookSyncs()).toMatchObject({ started: 3, peakRunning: 1, running: 0, queued: 0 });
    for (const [target, secret] of changes)
      expect((await s.value(target, secret)).string).toBe(`${secret} value 2`);
  });

  it('folds queued changes of different secrets of one service into one sync of that service', async () => {
    const { s, deliver } = await open({ webhookSyncConcurrency: 1 });
    const held = gate();
    s.keywhiz.beforeAnswer = () => held.opened;
    s.writeSecret(LEDGER, 'ledger.pgpass', 'ledger first');
    expect(await deliver('hold-ledger', 'ledger.pgpass', LEDGER)).toBe(202);
    const secrets = ['Database_Password', 'stripe-api-key', 'General_Password..0be68f903f8b7d86'];
    for (const secret of secrets) {
      s.writeSecret(PAYMENTS, secret, `${secret} folded`);
      expect(await deliver(`fold-${secret}`, secret, PAYMENTS)).toBe(202);
    }
    expect(s.stack.webhookSyncs()).toMatchObject({ started: 1, queued: 1, coalesced: 2 });
    held.open();
    const runs = await s.stack.settled();
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs[1]?.input).toEqual({
      services: ['payments'],
      deliveryId: 'fold-General_Password..0be68f903f8b7d86',
      event: 'secret.updated',
    });
    for (const secret of secrets) expect((await s.value(PAYMENTS, secret)).string).toBe(`${secret} folded`);
  });

  it('does not let a running sync stand in for a later change: a new sync runs after it, and the later content lands', async () => {
    const firstWrite = gate();
    const release = gate();
    let writes = 0;
    // The first sync has read the old content and is about to write it when the next change arrives.
    const holdFirstWrite = (deps: Dependencies): Dependencies => ({
      ...deps,
      secretStore: (accountId) => {
        const store = deps.secretStore(accountId);
        return {
          listSynced: (prefix) => store.listSynced(prefix),
          restore: (secret) => store.restore(secret),
          remove: (secret, days) => store.remove(secret, days),
          write: async (write) => {
            writes += 1;
            if (writes === 1) {
              firstWrite.open();
              await release.opened;
            }
            return store.write(write);
          },
        };
      },
    });
    const { s, deliver } = await open({ decorate: holdFirstWrite });
    const listings = () => s.keywhizRequests().list ?? 0;

    s.writeSecret(PAYMENTS, 'Database_Password', 'older content');
    expect(await deliver('change-1', 'Database_Password')).toBe(202);
    await firstWrite.opened;
    s.writeSecret(PAYMENTS, 'Database_Password', 'later content');
    expect(await deliver('change-2', 'Database_Password')).toBe(202);
    // Slots are free, yet the second sync of the same secret waits for the first to end.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(listings()).toBe(1);
    expect(s.stack.webhookSyncs()).toMatchObject({ running: 1, queued: 1, coalesced: 0 });

    release.open();
    const runs = await s.stack.settled();
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(Date.parse(runs[1]?.startDate ?? '')).toBeGreaterThanOrEqual(Date.parse(runs[0]?.stopDate ?? ''));
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('later content');
  });

  it('holds changes of a secret that arrive while it waits in one sync, which reads the latest content', async () => {
    const { s, deliver } = await open({ webhookSyncConcurrency: 1 });
    const held = gate();
    s.keywhiz.beforeAnswer = () => held.opened;
    s.writeSecret(PAYMENTS, 'stripe-api-key', 'first');
    expect(await deliver('hold-1', 'stripe-api-key')).toBe(202);
    for (let i = 0; i < 5; i++) {
      s.writeSecret(PAYMENTS, 'Database_Password', `edit ${i}`);
      expect(await deliver(`many-${i}`, 'Database_Password')).toBe(202);
    }
    held.open();
    const runs = await s.stack.settled();
    expect(runs).toHaveLength(2);
    expect(runs[1]?.input).toMatchObject({ secret: 'Database_Password', deliveryId: 'many-4' });
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('edit 4');
  });
});
