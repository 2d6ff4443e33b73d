import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { validateAuditEvent } from '../../events/schemas';
import { SECRET_DETAIL_TYPES } from '../../functions/shared/domain/audit';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../functions/shared/domain/webhook';
import { startWebhookServer, type WebhookServer } from '../../local-stack/webhook-server';
import { LEDGER, PAYMENTS, startSyncStack, type SyncStack } from '../support/sync-run';

let s: SyncStack;
let server: WebhookServer;
let key: Uint8Array;

beforeEach(async () => {
  s = await startSyncStack();
  server = await startWebhookServer({ handler: s.stack.webhookHandler, port: 0 });
  const [current] = await s.stack.deps.webhookKeys.keys();
  key = current as Uint8Array;
});
afterEach(async () => {
  await server.close();
  await s.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Delivery {
  body?: string;
  timestamp?: number;
  signingKey?: Uint8Array;
  contentType?: string;
}

/** POSTs a delivery to the receiver, signed unless told otherwise, and reads its JSON answer. */
const deliver = async ({
  body = '{}',
  timestamp = nowSeconds(),
  signingKey = key,
  contentType = 'application/json',
}: Delivery) => {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(signingKey, timestamp, body),
    },
    body,
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    json: (await response.json()) as {
      error?: string;
      message?: string;
      deliveryId?: string;
      status?: string;
    },
  };
};

const change = (deliveryId: string, secret = 'Database_Password', event = 'secret.updated') =>
  JSON.stringify({ deliveryId, event, secret, services: ['payments'] });

const syncRuns = () => s.stack.engine.listExecutions({ stateMachineName: 'sync-secrets' });

describe('a signed Keywhiz webhook starts a sync of the changed secret', () => {
  test('a signed delivery for an edited secret is accepted, and the new value reaches the account', async () => {
    expect((await s.stack.sync()).status).toBe('SUCCEEDED');
    const before = syncRuns().length;
    s.writeSecret(PAYMENTS, 'Database_Password', 'set-by-the-webhook-v2');
    const ledgerCalls = s.calls(LEDGER.accountId);

    const answer = await deliver({ body: change('delivery-0001') });
    expect(answer).toEqual({
      status: 202,
      contentType: 'application/json',
      json: { deliveryId: 'delivery-0001', status: 'accepted' },
    });
    const [run] = await s.stack.settled();
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.output).toMatchObject({ synced: 1, failed: 0 });
    expect(syncRuns()).toHaveLength(before + 1);
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('set-by-the-webhook-v2');
    // services: ['payments'] leaves ledger's agent out.
    expect(s.calls(LEDGER.accountId)).toEqual(ledgerCalls);
    const events = await s.auditEvents(run?.name);
    for (const event of events) expect(validateAuditEvent(event)).toEqual([]);
    expect(events.map((e) => [e['detail-type'], e.detail.keywhizName])).toEqual([
      [SECRET_DETAIL_TYPES.synced, 'Database_Password'],
    ]);
  });

  test('a delivery for a deleted secret schedules it for deletion', async () => {
    await s.stack.sync();
    s.removeSecret(PAYMENTS, 'stripe-api-key');
    const answer = await deliver({ body: change('delivery-0002', 'stripe-api-key', 'secret.deleted') });
    expect(answer.status).toBe(202);
    const [run] = await s.stack.settled();
    expect(run?.output).toMatchObject({ deleted: 1, failed: 0 });
    expect((await s.describe(PAYMENTS, 'stripe-api-key')).DeletedDate).toBeInstanceOf(Date);
    expect((await s.describe(PAYMENTS, 'Database_Password')).DeletedDate).toBeUndefined();
  });
});

describe('bad input is answered with its error and starts no execution', () => {
  const stale = () => nowSeconds() - 6 * 60;
  const future = () => nowSeconds() + 6 * 60;
  const cases: Array<[string, () => Delivery, number, string]> = [
    [
      'a bad signature',
      () => ({ body: change('bad-signature'), signingKey: new Uint8Array(32).fill(7) }),
      401,
      'invalid-signature',
    ],
    ['a stale timestamp', () => ({ body: change('bad-stale'), timestamp: stale() }), 401, 'stale-timestamp'],
    [
      'a future timestamp',
      () => ({ body: change('bad-future'), timestamp: future() }),
      401,
      'future-timestamp',
    ],
    [
      'an oversize body',
      () => ({
        body: JSON.stringify({
          deliveryId: 'bad-size',
          event: 'secret.updated',
          secret: 'Database_Password',
          padding: 'x'.repeat(70_000),
        }),
      }),
      413,
      'body-too-large',
    ],
    [
      'a wrong content type',
      () => ({ body: change('bad-type'), contentType: 'text/plain' }),
      415,
      'unsupported-content-type',
    ],
    ['malformed JSON', () => ({ body: '{"deliveryId": "bad-json", "event": ' }), 400, 'malformed-json'],
    [
      'an unknown event',
      () => ({ body: change('bad-event', 'Database_Password', 'secret.renamed') }),
      400,
      'invalid-delivery',
    ],
  ];

  test.each(cases)('%s', async (_what, delivery, status, error) => {
    s.writeSecret(PAYMENTS, 'Database_Password', 'must-not-be-synced');
    const answer = await deliver(delivery());
    expect(answer.status).toBe(status);
    expect(answer.contentType).toBe('application/json');
    expect(answer.json.error).toBe(error);
    expect(answer.json.message).toEqual(expect.any(String));
    await s.stack.settled();
    expect(syncRuns()).toEqual([]);
    expect(await s.secretNames(PAYMENTS.accountId)).toEqual([]);

    // Refused, the delivery id was not recorded: the same delivery, properly sent, is accepted.
    const id = /"deliveryId":"([^"]+)"/.exec(delivery().body ?? '')?.[1];
    if (id !== undefined && status !== 413) {
      const retried = await deliver({ body: change(id) });
      expect(retried.json).toEqual({ deliveryId: id, status: 'accepted' });
      await s.stack.settled();
      expect(syncRuns()).toHaveLength(1);
    }
  });

  test('a replayed delivery id is answered 202 duplicate and starts no second execution', async () => {
    const first = await deliver({ body: change('delivery-once') });
    expect(first.json).toEqual({ deliveryId: 'delivery-once', status: 'accepted' });
    await s.stack.settled();
    expect(syncRuns()).toHaveLength(1);
    const stored = s.storeSnapshot(PAYMENTS.accountId);

    s.writeSecret(PAYMENTS, 'Database_Password', 'changed-after-the-first-delivery');
    const again = await deliver({ body: change('delivery-once') });
    expect(again).toMatchObject({ status: 202, json: { deliveryId: 'delivery-once', status: 'duplicate' } });
    await s.stack.settled();
    expect(syncRuns()).toHaveLength(1);
    expect(s.storeSnapshot(PAYMENTS.accountId)).toEqual(stored);
  });
});
