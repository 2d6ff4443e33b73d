import { renameSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, test } from '@jest/globals';
import { validateAuditEvent } from '../../events/schemas';
import { SYNCED_SECRET_TAG } from '../../functions/shared/ports/secret-store/secrets-manager-secret-store';
import { SECRET_DETAIL_TYPES } from '../../functions/shared/domain/audit';
import { InvalidEnrollment } from '../../functions/shared/domain/errors';
import { KeywhizClient } from '../../functions/shared/ports/secret-source/keywhiz-client';
import { ensureDevServerCa } from '../../local-stack/stand-ins/keywhiz/server-ca-secret';
import {
  LEDGER,
  PAYMENTS,
  SAMPLE_KEYWHIZ_DIR,
  SAMPLE_SECRETS,
  SEARCH,
  startSyncStack,
  type SyncedService,
  type SyncStack,
  writesBetween,
} from '../support/sync-run';

const P = PAYMENTS.accountId;
const L = LEDGER.accountId;
const DAY_MS = 24 * 3600 * 1000;

const throttled = () =>
  new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

const sample = (target: SyncedService, name: string) =>
  readFileSync(join(SAMPLE_KEYWHIZ_DIR, target.service, name));

let s: SyncStack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The run's audit events as [detail-type, account, Keywhiz name], each checked against its schema. */
const eventsOf = async (stack: SyncStack, runId: string) => {
  const events = await stack.auditEvents(runId);
  for (const event of events) expect(validateAuditEvent(event)).toEqual([]);
  return events;
};
/** Keywhiz's CA, as each agent's account keeps it (infra/onboarding.yml; written by the local stack here). */
const CA_SECRET = 'trust-bridge/keywhiz-server-ca';
/** The account's secrets other than Keywhiz's CA. */
const syncedNames = async (stack: SyncStack, accountId: string) =>
  (await stack.secretNames(accountId)).filter((name) => name !== CA_SECRET);
/** A Keywhiz client holding `service`'s SVID that trusts Keywhiz's own CA, as that service's agent does. */
const keywhizClientOf = async (stack: SyncStack, service: string) => {
  const svid = await stack.stack.deps.svids.read(`trust-bridge/svid/prod/${service}`);
  return new KeywhizClient({
    baseUrl: stack.stack.config.KEYWHIZ_URL,
    credentials: { certificateChainPem: svid.x509SVID, privateKeyPem: svid.x509SVIDKey },
    serverCaPem: stack.keywhiz.caPem,
    serverSpiffeId: stack.stack.config.KEYWHIZ_SERVER_SPIFFE_ID,
    timeoutMs: 5000,
    maxAttempts: 1,
  });
};
const summary = (events: Awaited<ReturnType<typeof eventsOf>>) =>
  events
    .map((e) => [e['detail-type'], e.detail.accountId, e.detail.keywhizName ?? e.detail.count ?? null])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('sync-secrets on the local engine, over the Keywhiz dev server', () => {
  test('first sync: each sample secret lands in its own account with its value, tags and one Secret Synced event', async () => {
    s = await startSyncStack();
    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({
      runId: run.name,
      synced: 5,
      unchanged: 0,
      deleted: 0,
      restored: 0,
      refused: 0,
      failedSecrets: 0,
      failed: 0,
      replay: { accounts: [] },
    });

    for (const target of [PAYMENTS, LEDGER]) {
      // Exactly this service's secrets, none of the other's, beside Keywhiz's CA that the agent trusts.
      expect(await s.secretNames(target.accountId)).toEqual(
        [...SAMPLE_SECRETS[target.service].map((n) => s!.nameOf(target, n)), CA_SECRET].sort(),
      );
      const client = await keywhizClientOf(s, target.service);
      const listing = await client.list();
      client.close();
      expect(listing.map((i) => i.name).sort()).toEqual([...SAMPLE_SECRETS[target.service]].sort());
      for (const info of listing) {
        const value = await s.value(target, info.name);
        const content = sample(target, info.name);
        if (info.name === 'signing-key.der') {
          // Not UTF-8: kept as bytes, exactly.
          expect(value.string).toBeUndefined();
          expect(value.binary?.equals(content)).toBe(true);
        } else {
          expect(value.binary).toBeUndefined();
          expect(value.string).toBe(content.toString('utf8'));
        }
        const described = await s.describe(target, info.name);
        const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]));
        expect(tags).toEqual({
          [SYNCED_SECRET_TAG.managedBy]: 'trust-bridge',
          [SYNCED_SECRET_TAG.keywhizChecksum]: info.checksum,
          [SYNCED_SECRET_TAG.keywhizUpdated]: info.updateDate,
          [SYNCED_SECRET_TAG.service]: target.service,
          [SYNCED_SECRET_TAG.environment]: 'prod',
        });
        expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(1);
      }
    }
    expect(await s.secretNames(SEARCH.accountId)).toEqual([]);

    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual(
      [
        ...SAMPLE_SECRETS.payments.map((n) => [SECRET_DETAIL_TYPES.synced, P, n]),
        ...SAMPLE_SECRETS.ledger.map((n) => [SECRET_DETAIL_TYPES.synced, L, n]),
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const event of events) {
      const target = event.detail.accountId === P ? PAYMENTS : LEDGER;
      const name = event.detail.keywhizName as string;
      expect(event.detail).toMatchObject({
        service: target.service,
        environment: 'prod',
        secretName: s.nameOf(target, name),
        created: true,
        versionId: (await s.value(target, name)).versionId,
      });
    }
  });

  test('no-op resync: no write, no value read, one listing per agent, one ListSecrets per 100 secrets', async () => {
    const extra = 247; // 250 payments secrets: three pages of ListSecrets
    s = await startSyncStack({
      prepare: (dir) => {
        for (let i = 0; i < extra; i++) writeFileSync(join(dir, 'payments', `extra-${i}`), `value ${i}`);
      },
    });
    expect((await s.stack.sync()).status).toBe('SUCCEEDED');
    const before = { p: s.calls(P), l: s.calls(L), keywhiz: s.keywhizRequests() };

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 0, unchanged: 3 + extra + 2, deleted: 0, failed: 0 });
    const after = { p: s.calls(P), l: s.calls(L), keywhiz: s.keywhizRequests() };
    for (const [was, now, secrets] of [
      [before.p, after.p, 3 + extra],
      [before.l, after.l, 2],
    ] as const) {
      expect(writesBetween(was, now)).toBe(0);
      expect((now.GetSecretValue ?? 0) - (was.GetSecretValue ?? 0)).toBe(0);
      expect((now.BatchGetSecretValue ?? 0) - (was.BatchGetSecretValue ?? 0)).toBe(0);
      expect((now.DescribeSecret ?? 0) - (was.DescribeSecret ?? 0)).toBe(0);
      expect((now.ListSecrets ?? 0) - (was.ListSecrets ?? 0)).toBeLessThanOrEqual(Math.ceil(secrets / 100));
    }
    expect(after.keywhiz).toEqual({ ...before.keywhiz, list: before.keywhiz.list + 2 });

    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.unchanged, P, 3 + extra],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
  });

  test('a changed secret is the only one read and written: a new current version, one write', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    const first = await s.value(PAYMENTS, 'Database_Password');
    s.writeSecret(PAYMENTS, 'Database_Password', 'rotated-password-v2');
    const before = { p: s.calls(P), l: s.calls(L), keywhiz: s.keywhizRequests() };

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 1, unchanged: 4, failed: 0 });
    const after = { p: s.calls(P), l: s.calls(L), keywhiz: s.keywhizRequests() };
    expect((after.p.PutSecretValue ?? 0) - (before.p.PutSecretValue ?? 0)).toBe(1);
    expect((after.p.CreateSecret ?? 0) - (before.p.CreateSecret ?? 0)).toBe(0);
    expect(writesBetween(before.l, after.l)).toBe(0);
    // One batch read of the one changed secret.
    expect(after.keywhiz.batch - before.keywhiz.batch).toBe(1);
    expect(after.keywhiz.single - before.keywhiz.single).toBe(0);

    const now = await s.value(PAYMENTS, 'Database_Password');
    expect(now.string).toBe('rotated-password-v2');
    const stages = (await s.describe(PAYMENTS, 'Database_Password')).VersionIdsToStages ?? {};
    expect(stages).toEqual({
      [now.versionId!]: ['TRUST_BRIDGE_PENDING', 'AWSCURRENT'],
      [first.versionId!]: ['AWSPREVIOUS'],
    });
    expect((await s.value(PAYMENTS, 'stripe-api-key')).string).toBe(
      sample(PAYMENTS, 'stripe-api-key').toString(),
    );

    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.synced, P, 'Database_Password'],
      [SECRET_DETAIL_TYPES.unchanged, P, 2],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
    const synced = events.find((e) => e['detail-type'] === SECRET_DETAIL_TYPES.synced);
    expect(synced?.detail).toMatchObject({ created: false, versionId: now.versionId });
  });

  test('a deleted secret is scheduled for deletion with the recovery window, and restored when it comes back', async () => {
    s = await startSyncStack({ env: { SYNC_RECOVERY_WINDOW_DAYS: '10' } });
    await s.stack.sync();
    s.removeSecret(PAYMENTS, 'stripe-api-key');

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ deleted: 1, unchanged: 4, failed: 0 });
    const described = await s.describe(PAYMENTS, 'stripe-api-key');
    expect(described.DeletedDate).toBeInstanceOf(Date);
    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.deleted, P, 'stripe-api-key'],
      [SECRET_DETAIL_TYPES.unchanged, P, 2],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
    const deletion = events.find((e) => e['detail-type'] === SECRET_DETAIL_TYPES.deleted);
    const deletionDate = Date.parse(deletion?.detail.deletionDate as string);
    expect(deletionDate - described.DeletedDate!.getTime()).toBeGreaterThan(10 * DAY_MS - 60_000);
    expect(deletionDate - described.DeletedDate!.getTime()).toBeLessThan(10 * DAY_MS + 60_000);
    await expect(s.value(PAYMENTS, 'stripe-api-key')).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    // A rerun deletes nothing more.
    const rerun = await s.stack.sync();
    expect(rerun.output).toMatchObject({ deleted: 0, unchanged: 4 });

    // Back in Keywhiz with the same content, within the window: restored, not rewritten.
    s.writeSecret(PAYMENTS, 'stripe-api-key', sample(PAYMENTS, 'stripe-api-key'));
    const before = s.calls(P);
    const back = await s.stack.sync();
    expect(back.status).toBe('SUCCEEDED');
    expect(back.output).toMatchObject({ restored: 1, synced: 0, deleted: 0 });
    const after = s.calls(P);
    expect((after.RestoreSecret ?? 0) - (before.RestoreSecret ?? 0)).toBe(1);
    expect((after.PutSecretValue ?? 0) - (before.PutSecretValue ?? 0)).toBe(0);
    expect((await s.describe(PAYMENTS, 'stripe-api-key')).DeletedDate).toBeUndefined();
    expect((await s.value(PAYMENTS, 'stripe-api-key')).string).toBe(
      sample(PAYMENTS, 'stripe-api-key').toString(),
    );
    expect(await s.versionCount(PAYMENTS, 'stripe-api-key')).toBe(1);
    expect(summary(await eventsOf(s, back.name))).toEqual([
      [SECRET_DETAIL_TYPES.restored, P, 'stripe-api-key'],
      [SECRET_DETAIL_TYPES.unchanged, P, 2],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
  });

  test('mass-deletion guard: a listing that drops most of a service deletes nothing and is audited', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    s.removeSecret(PAYMENTS, 'Database_Password');
    s.removeSecret(PAYMENTS, 'stripe-api-key');
    const before = s.calls(P);

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ deleted: 0, refused: 2, unchanged: 3, failed: 0 });
    expect(writesBetween(before, s.calls(P))).toBe(0);
    for (const name of SAMPLE_SECRETS.payments) {
      expect((await s.describe(PAYMENTS, name)).DeletedDate).toBeUndefined();
    }
    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.refused, P, 2],
      [SECRET_DETAIL_TYPES.unchanged, P, 1],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
    expect(events.find((e) => e['detail-type'] === SECRET_DETAIL_TYPES.refused)?.detail).toMatchObject({
      reason: 'mass-deletion',
      count: 2,
    });
  });

  test('Keywhiz down: the run fails naming every secret-enabled account for replay, and no store changes', async () => {
    s = await startSyncStack({ env: { KEYWHIZ_MAX_ATTEMPTS: '2', KEYWHIZ_TIMEOUT_MS: '200' } });
    await s.stack.sync();
    // Changes Keywhiz would have reported, had it answered.
    s.writeSecret(PAYMENTS, 'Database_Password', 'changed while Keywhiz is down');
    s.removeSecret(LEDGER, 'ledger.pgpass');
    const before = { p: s.storeSnapshot(P), l: s.storeSnapshot(L) };
    expect(Object.keys(before.p).length).toBeGreaterThan(0);
    await s.stopKeywhiz();

    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('AccountsFailed');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P, L] });
    expect(s.storeSnapshot(P)).toEqual(before.p);
    expect(s.storeSnapshot(L)).toEqual(before.l);
    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.failed, P, null],
      [SECRET_DETAIL_TYPES.failed, L, null],
    ]);
    for (const event of events) expect(event.detail.error).toBe('KeywhizUnavailable');
  });

  test.each(['CreateSecret', 'PutSecretValue'] as const)(
    'a throttled %s is recovered by the Retry, and the secret is written once',
    async (operation) => {
      s = await startSyncStack();
      if (operation === 'PutSecretValue') {
        await s.stack.sync();
        s.writeSecret(PAYMENTS, 'Database_Password', 'after the throttling');
      } else {
        // Keywhiz's CA in place first, so that the throttled creations are the synced secrets'.
        await ensureDevServerCa(s.store(P), CA_SECRET, s.keywhiz.caPem);
      }
      const before = s.calls(P);
      s.probe(P).failNext(operation, throttled(), 3);

      const run = await s.stack.sync();
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toMatchObject({ failed: 0 });
      expect((s.calls(P)[operation] ?? 0) - (before[operation] ?? 0)).toBeGreaterThan(3);
      if (operation === 'PutSecretValue') {
        expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('after the throttling');
        expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(2);
      } else {
        for (const name of SAMPLE_SECRETS.payments) expect(await s.versionCount(PAYMENTS, name)).toBe(1);
      }
      const synced = (await eventsOf(s, run.name)).filter(
        (e) => e['detail-type'] === SECRET_DETAIL_TYPES.synced && e.detail.accountId === P,
      );
      expect(synced.length).toBe(operation === 'PutSecretValue' ? 1 : 3);
    },
  );

  test('a changed binary secret is written as its new bytes', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    const bytes = Buffer.from([0x30, 0x82, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x7f]);
    s.writeSecret(LEDGER, 'signing-key.der', bytes);

    const run = await s.stack.sync();
    expect(run.output).toMatchObject({ synced: 1 });
    const value = await s.value(LEDGER, 'signing-key.der');
    expect(value.string).toBeUndefined();
    expect(value.binary?.equals(bytes)).toBe(true);
    expect(await s.versionCount(LEDGER, 'signing-key.der')).toBe(2);
  });

  test('a secret over 64 KB fails alone and makes the account replayable; the replay (from a kept input) after a fix succeeds', async () => {
    s = await startSyncStack({
      prepare: (dir) => {
        writeFileSync(join(dir, 'payments', 'big-blob'), Buffer.alloc(66_560, 'x'));
        writeFileSync(join(dir, 'payments', 'limit-blob'), Buffer.alloc(65_536, 'y'));
      },
    });
    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('AccountsFailed');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
    expect(await s.secretNames(P)).not.toContain(s.nameOf(PAYMENTS, 'big-blob'));
    // Exactly at the limit is fine; the others are synced too.
    expect((await s.value(PAYMENTS, 'limit-blob')).string).toHaveLength(65_536);
    for (const name of SAMPLE_SECRETS.payments) expect(await s.versionCount(PAYMENTS, name)).toBe(1);
    for (const name of SAMPLE_SECRETS.ledger) expect(await s.versionCount(LEDGER, name)).toBe(1);
    const failures = (await eventsOf(s, run.name)).filter(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed,
    );
    expect(failures.map((e) => e.detail)).toEqual([
      expect.objectContaining({
        accountId: P,
        keywhizName: 'big-blob',
        secretName: s.nameOf(PAYMENTS, 'big-blob'),
        error: 'SecretTooLarge',
        message: expect.stringContaining('66560'),
      }),
    ]);

    s.writeSecret(PAYMENTS, 'big-blob', 'small now');
    const ledgerBefore = s.calls(L);
    // Replayed from a kept replay input, as a run too large for its cause is: only a sync run's is taken.
    const kept = await s.stack.deps.runFiles.write(
      `sync-secrets/${run.name}/replay.json`,
      JSON.parse(run.cause ?? ''),
    );
    const foreign = await s.stack.sync({
      replayFrom: { ...kept, key: `rotate-svids/${run.name}/replay.json` },
    });
    expect([foreign.status, foreign.error]).toEqual(['FAILED', 'InvalidRunRequest']);
    expect(foreign.cause).toMatch(/sync-secrets run's replay\.json/);
    const replay = await s.stack.sync({ replayFrom: kept });
    expect(replay.status).toBe('SUCCEEDED');
    expect(replay.output).toMatchObject({ synced: 1, unchanged: 4, failed: 0 });
    expect((await s.value(PAYMENTS, 'big-blob')).string).toBe('small now');
    // Only the failed account's agent ran.
    expect(s.calls(L)).toEqual(ledgerBefore);
  });

  test('content older than what is stored is refused, not written, and audited', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    const path = s.pathOf(PAYMENTS, 'Database_Password');
    const stored = statSync(path).mtime;
    s.writeSecret(PAYMENTS, 'Database_Password', 'an older revision, restored from a backup');
    const older = new Date(stored.getTime() - 3600_000);
    utimesSync(path, older, older);
    const before = { p: s.calls(P), keywhiz: s.keywhizRequests() };

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 0, refused: 1, unchanged: 4 });
    expect(writesBetween(before.p, s.calls(P))).toBe(0);
    // Refused from the listing alone: its content was never read.
    expect(s.keywhizRequests().batch).toBe(before.keywhiz.batch);
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe(
      sample(PAYMENTS, 'Database_Password').toString(),
    );
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(1);
    const refusal = (await eventsOf(s, run.name)).find(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.refused,
    );
    expect(refusal?.detail).toMatchObject({
      accountId: P,
      keywhizName: 'Database_Password',
      reason: 'older-than-stored',
    });
  });

  test("account A's agent cannot obtain service B's secret", async () => {
    s = await startSyncStack();
    const payments = await keywhizClientOf(s, 'payments');
    try {
      expect((await payments.list()).map((i) => i.name).sort()).toEqual([...SAMPLE_SECRETS.payments].sort());
      const denied = s.keywhiz.requests.denied;
      const alone = await payments.fetch(['ledger.pgpass']);
      expect(alone.secrets.size).toBe(0);
      expect(alone.failed.get('ledger.pgpass')).toMatchObject({ name: 'SecretAccessDenied' });
      const mixed = await payments.fetch(['Database_Password', 'signing-key.der']);
      expect([...mixed.secrets.keys()]).toEqual(['Database_Password']);
      expect(mixed.failed.get('signing-key.der')).toMatchObject({ name: 'SecretAccessDenied' });
      expect(s.keywhiz.requests.denied).toBeGreaterThan(denied);
    } finally {
      payments.close();
    }

    // Asked for ledger's secret, payments' agent does not find it in its own listing.
    const targeted = await s.stack.sync({ secret: 'ledger.pgpass', services: ['payments'] });
    expect(targeted.status).toBe('SUCCEEDED');
    expect(await syncedNames(s, P)).toEqual([]);
    const full = await s.stack.sync();
    expect(full.status).toBe('SUCCEEDED');
    const names = await syncedNames(s, P);
    expect(names).toEqual(SAMPLE_SECRETS.payments.map((n) => s!.nameOf(PAYMENTS, n)).sort());
    expect(names.join()).not.toMatch(/ledger|signing-key/);
  });

  test('a targeted sync writes only the named secret, and only in the services it names', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    s.writeSecret(PAYMENTS, 'Database_Password', 'targeted-v2');
    s.writeSecret(PAYMENTS, 'stripe-api-key', 'not-asked-for-v2');
    const before = s.calls(P);

    const one = await s.stack.sync({ secret: 'Database_Password' });
    expect(one.status).toBe('SUCCEEDED');
    expect(one.output).toMatchObject({ synced: 1, failed: 0 });
    expect((s.calls(P).PutSecretValue ?? 0) - (before.PutSecretValue ?? 0)).toBe(1);
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('targeted-v2');
    expect((await s.value(PAYMENTS, 'stripe-api-key')).string).toBe(
      sample(PAYMENTS, 'stripe-api-key').toString(),
    );

    s.writeSecret(LEDGER, 'ledger.pgpass', 'ledger-db:5432:*:ledger:v2');
    const payments = s.calls(P);
    const listings = s.keywhizRequests().list;
    const ledgerOnly = await s.stack.sync({ secret: 'ledger.pgpass', services: ['ledger'] });
    expect(ledgerOnly.status).toBe('SUCCEEDED');
    expect(ledgerOnly.output).toMatchObject({ synced: 1 });
    expect(s.keywhizRequests().list - listings).toBe(1);
    expect(s.calls(P)).toEqual(payments);
    expect((await s.value(LEDGER, 'ledger.pgpass')).string).toBe('ledger-db:5432:*:ledger:v2');
    const events = await eventsOf(s, ledgerOnly.name);
    expect(new Set(events.map((e) => e.detail.accountId))).toEqual(new Set([L]));
  });

  test('a foreign secret under a mapped name is never overwritten nor deleted', async () => {
    s = await startSyncStack();
    const name = s.nameOf(PAYMENTS, 'Database_Password');
    await s.store(P).send(new CreateSecretCommand({ Name: name, SecretString: 'someone else owns this' }));

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 4, refused: 1, failed: 0 });
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('someone else owns this');
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(1);
    const refusal = (await eventsOf(s, run.name)).find(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.refused,
    );
    expect(refusal?.detail).toMatchObject({
      accountId: P,
      keywhizName: 'Database_Password',
      secretName: name,
      reason: 'not-owned',
    });

    // Gone from Keywhiz: still not ours to delete.
    s.removeSecret(PAYMENTS, 'Database_Password');
    const after = await s.stack.sync();
    expect(after.output).toMatchObject({ deleted: 0 });
    expect((await s.describe(PAYMENTS, 'Database_Password')).DeletedDate).toBeUndefined();
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('someone else owns this');
  });

  test('retries and replays never make a second version', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    s.writeSecret(PAYMENTS, 'Database_Password', 'written once');
    // The value is put, then tagging fails: the retried agent puts the same revision again.
    s.probe(P).failNext('TagResource', throttled(), 1);

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(2);
    const synced = (await eventsOf(s, run.name)).filter(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.synced,
    );
    expect(synced.map((e) => e.detail.keywhizName)).toEqual(['Database_Password']);
    const { versionId } = await s.value(PAYMENTS, 'Database_Password');

    for (const request of [{}, { accounts: [P] }, { secret: 'Database_Password' }]) {
      const again = await s.stack.sync(request);
      expect(again.status).toBe('SUCCEEDED');
      expect(again.output).toMatchObject({ synced: 0 });
    }
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(2);
    expect((await s.value(PAYMENTS, 'Database_Password')).versionId).toBe(versionId);
  });
  test('a secret that comes back changed within its recovery window is restored and written, and audited as both', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    s.removeSecret(PAYMENTS, 'stripe-api-key');
    expect((await s.stack.sync()).output).toMatchObject({ deleted: 1 });

    s.writeSecret(PAYMENTS, 'stripe-api-key', 'sk_test_back-with-a-new-value');
    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect((await s.describe(PAYMENTS, 'stripe-api-key')).DeletedDate).toBeUndefined();
    expect((await s.value(PAYMENTS, 'stripe-api-key')).string).toBe('sk_test_back-with-a-new-value');
    expect(await s.versionCount(PAYMENTS, 'stripe-api-key')).toBe(2);
    expect(run.output).toMatchObject({ synced: 1, restored: 1 });
    expect(summary(await eventsOf(s, run.name))).toEqual([
      [SECRET_DETAIL_TYPES.restored, P, 'stripe-api-key'],
      [SECRET_DETAIL_TYPES.synced, P, 'stripe-api-key'],
      [SECRET_DETAIL_TYPES.unchanged, P, 2],
      [SECRET_DETAIL_TYPES.unchanged, L, 2],
    ]);
  });

  test("one account's failure (its service has no SVID) never blocks the other's", async () => {
    s = await startSyncStack();
    await s.stack.deps.svids.read('trust-bridge/svid/prod/ledger');
    await s.stack.services.secretsManager.send(
      new DeleteSecretCommand({
        SecretId: 'trust-bridge/svid/prod/ledger',
        ForceDeleteWithoutRecovery: true,
      }),
    );
    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [L] });
    expect(await syncedNames(s, P)).toHaveLength(3);
    expect(await s.secretNames(L)).toEqual([]);
    const failure = (await eventsOf(s, run.name)).find(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed,
    );
    expect(failure?.detail).toMatchObject({ accountId: L, service: 'ledger', error: 'SvidUnavailable' });
  });

  test('Keywhiz names Secrets Manager cannot take are mapped, synced and then seen unchanged', async () => {
    const names = ['db password:prod', 'clé+secrète', 'api-key-abcdef', 'a=b@c'];
    s = await startSyncStack({
      prepare: (dir) => names.forEach((n, i) => writeFileSync(join(dir, 'payments', n), `value ${i}`)),
    });
    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 5 + names.length, failed: 0 });
    for (const [i, name] of names.entries()) {
      expect(s.nameOf(PAYMENTS, name)).toMatch(/^[A-Za-z0-9/_+=.@-]+$/);
      expect((await s.value(PAYMENTS, name)).string).toBe(`value ${i}`);
    }
    const again = await s.stack.sync();
    expect(again.output).toMatchObject({ synced: 0, unchanged: 5 + names.length, deleted: 0 });
  });

  test('Keywhiz going back to an earlier content makes that version current again, without a new version', async () => {
    s = await startSyncStack();
    await s.stack.sync();
    const original = await s.value(PAYMENTS, 'Database_Password');
    s.writeSecret(PAYMENTS, 'Database_Password', 'a short-lived revision');
    await s.stack.sync();
    s.writeSecret(PAYMENTS, 'Database_Password', sample(PAYMENTS, 'Database_Password'));

    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 1 });
    const now = await s.value(PAYMENTS, 'Database_Password');
    expect(now.string).toBe(original.string);
    expect(now.versionId).toBe(original.versionId);
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(2);
    // The next run sees it unchanged.
    expect((await s.stack.sync()).output).toMatchObject({ synced: 0, unchanged: 5 });
  });
  test('a scheduled reconcile and webhook syncs running at once make one version per revision', async () => {
    s = await startSyncStack();
    s.writeSecret(PAYMENTS, 'brand-new', 'created by whichever run comes first');
    const first = await Promise.all([
      s.stack.sync(),
      s.stack.sync({ secret: 'brand-new' }),
      s.stack.sync({ secret: 'brand-new', services: ['payments'] }),
    ]);
    expect(first.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await s.versionCount(PAYMENTS, 'brand-new')).toBe(1);

    s.writeSecret(PAYMENTS, 'brand-new', 'changed once');
    const second = await Promise.all([s.stack.sync(), s.stack.sync({ secret: 'brand-new' })]);
    expect(second.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(await s.versionCount(PAYMENTS, 'brand-new')).toBe(2);
    expect((await s.value(PAYMENTS, 'brand-new')).string).toBe('changed once');
  });

  test('a chunk whose targets cannot be loaded fails all its accounts, each audited and replayable, and changes nothing', async () => {
    // Counted from the sync on: the plan reads the registry first, the chunk's load second.
    let lists = Number.NEGATIVE_INFINITY;
    s = await startSyncStack({
      decorate: (deps) => ({
        ...deps,
        registry: {
          list: async () => {
            lists += 1;
            if (lists === 2)
              throw new InvalidEnrollment(
                'enrollments.json: record 2: accountId must be a 12-digit AWS account id',
              );
            return deps.registry.list();
          },
        },
      }),
    });
    const before = [s.storeSnapshot(P), s.storeSnapshot(L)];
    lists = 0;
    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P, L] });
    expect([s.storeSnapshot(P), s.storeSnapshot(L)]).toEqual(before);
    const failures = await eventsOf(s, run.name);
    expect(failures.map((e) => [e['detail-type'], e.detail.accountId, e.detail.error])).toEqual([
      [SECRET_DETAIL_TYPES.failed, P, 'InvalidEnrollment'],
      [SECRET_DETAIL_TYPES.failed, L, 'InvalidEnrollment'],
    ]);
    for (const event of failures) expect(validateAuditEvent(event)).toEqual([]);
    expect((await s.stack.sync({ accounts: [P, L] })).status).toBe('SUCCEEDED');
  });
});

describe('Keywhiz as it is deployed: its own CA, and secrets that fail on their own', () => {
  const caOf = async (stack: SyncStack, accountId: string) =>
    (await stack.store(accountId).send(new GetSecretValueCommand({ SecretId: CA_SECRET }))).SecretString;

  test("each agent trusts Keywhiz's own CA, kept in its account, which is not the SVID issuer", async () => {
    s = await startSyncStack();
    const run = await s.stack.sync();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ synced: 5, failed: 0 });
    const svidBundle = (await s.stack.deps.svids.read('trust-bridge/svid/prod/payments')).bundle;
    for (const accountId of [P, L]) expect(await caOf(s, accountId)).toBe(s.keywhiz.caPem);
    expect(s.keywhiz.caPem).not.toContain(svidBundle.trim());
    // The identity-only account runs no agent, and is given nothing.
    expect(await s.secretNames(SEARCH.accountId)).toEqual([]);
  });

  test.each([
    ['only the SVID bundle (the wrong CA)', 'svid-bundle', /is not trusted: .*KEYWHIZ_SERVER_CA_SECRET/],
    ['no PEM at all', 'not a certificate', /KEYWHIZ_SERVER_CA_SECRET .*: it holds no PEM certificate/],
  ])(
    'an account whose CA secret holds %s fails alone with a clear error, changes nothing, and its replay after the fix succeeds',
    async (_what, value, message) => {
      s = await startSyncStack();
      const svidBundle = (await s.stack.deps.svids.read('trust-bridge/svid/prod/payments')).bundle;
      await s.store(P).send(
        new CreateSecretCommand({
          Name: CA_SECRET,
          SecretString: value === 'svid-bundle' ? svidBundle : value,
        }),
      );
      const before = s.storeSnapshot(P);
      const requests = s.keywhizRequests();

      const run = await s.stack.sync();
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('AccountsFailed');
      expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
      expect(s.storeSnapshot(P)).toEqual(before);
      expect(await syncedNames(s, P)).toEqual([]);
      // The other account is not held up.
      expect(await syncedNames(s, L)).toHaveLength(SAMPLE_SECRETS.ledger.length);
      // The wrong CA is refused in the TLS handshake, the malformed one before any connection: nothing reached Keywhiz.
      expect(s.keywhizRequests().list - requests.list).toBe(1);
      const events = await eventsOf(s, run.name);
      const failures = events.filter((e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed);
      expect(failures.map((e) => [e.detail.accountId, e.detail.keywhizName ?? null, e.detail.error])).toEqual(
        [[P, null, 'InvalidConfiguration']],
      );
      expect(failures[0]?.detail.message).toMatch(message);
      expect(failures[0]?.detail.message).toContain(CA_SECRET);

      await s
        .store(P)
        .send(new PutSecretValueCommand({ SecretId: CA_SECRET, SecretString: s.keywhiz.caPem }));
      const replay = await s.stack.sync(JSON.parse(run.cause ?? ''));
      expect(replay.status).toBe('SUCCEEDED');
      expect(replay.output).toMatchObject({ synced: SAMPLE_SECRETS.payments.length, failed: 0 });
    },
  );

  test('a secret whose delivery fails (HTTP 500) fails alone: the others sync, it is audited, the replay after recovery writes it', async () => {
    s = await startSyncStack();
    // Keywhiz cannot build this one's delivery: its batch and its single request answer 500.
    s.keywhiz.beforeAnswer = ({ endpoint, names }) =>
      endpoint !== 'list' && names.includes('stripe-api-key') ? 500 : undefined;
    const before = s.keywhizRequests();

    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
    expect(run.output).toBeUndefined();
    expect(await syncedNames(s, P)).toEqual(
      ['Database_Password', 'General_Password..0be68f903f8b7d86'].map((n) => s!.nameOf(PAYMENTS, n)).sort(),
    );
    expect(await syncedNames(s, L)).toHaveLength(SAMPLE_SECRETS.ledger.length);
    // Payments: one batch (500), then each name alone, the failing one retried (KEYWHIZ_MAX_ATTEMPTS 4).
    const after = s.keywhizRequests();
    expect(after.batch - before.batch).toBe(2);
    expect(after.single - before.single).toBe(2 + 4);
    expect(summary(await eventsOf(s, run.name))).toEqual(
      [
        [SECRET_DETAIL_TYPES.failed, P, 'stripe-api-key'],
        [SECRET_DETAIL_TYPES.synced, P, 'Database_Password'],
        [SECRET_DETAIL_TYPES.synced, P, 'General_Password..0be68f903f8b7d86'],
        ...SAMPLE_SECRETS.ledger.map((n) => [SECRET_DETAIL_TYPES.synced, L, n]),
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    const failure = (await eventsOf(s, run.name)).find(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed,
    );
    expect(failure?.detail).toMatchObject({
      keywhizName: 'stripe-api-key',
      secretName: s.nameOf(PAYMENTS, 'stripe-api-key'),
      error: 'KeywhizUnavailable',
      message: expect.stringContaining('HTTP 500'),
    });

    s.keywhiz.beforeAnswer = undefined;
    const replay = await s.stack.sync(JSON.parse(run.cause ?? ''));
    expect(replay.status).toBe('SUCCEEDED');
    expect(replay.output).toMatchObject({ synced: 1, unchanged: 2, failed: 0 });
    expect((await s.value(PAYMENTS, 'stripe-api-key')).string).toBe(
      sample(PAYMENTS, 'stripe-api-key').toString(),
    );
  });

  test('a secret unassigned between the listing and the fetch (403) fails alone and keeps its last good copy', async () => {
    s = await startSyncStack();
    expect((await s.stack.sync()).status).toBe('SUCCEEDED');
    s.writeSecret(PAYMENTS, 'Database_Password', 'changed-v2');
    s.writeSecret(PAYMENTS, 'stripe-api-key', 'sk_test_changed-v2');
    const stripe = await s.value(PAYMENTS, 'stripe-api-key');
    // Once payments' agent has listed, stripe-api-key is assigned to ledger instead.
    s.keywhiz.beforeAnswer = ({ endpoint, service }) => {
      if (endpoint === 'batch' && service === 'payments') {
        renameSync(s!.pathOf(PAYMENTS, 'stripe-api-key'), join(s!.keywhizDir, 'ledger', 'stripe-api-key'));
        s!.keywhiz.beforeAnswer = undefined;
      }
    };
    const before = s.calls(P);

    const run = await s.stack.sync({ accounts: [P] });
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
    expect((await s.value(PAYMENTS, 'Database_Password')).string).toBe('changed-v2');
    // Not overwritten, not deleted: the account keeps the copy it had.
    expect(await s.value(PAYMENTS, 'stripe-api-key')).toEqual(stripe);
    expect((await s.describe(PAYMENTS, 'stripe-api-key')).DeletedDate).toBeUndefined();
    expect((s.calls(P).PutSecretValue ?? 0) - (before.PutSecretValue ?? 0)).toBe(1);
    const events = await eventsOf(s, run.name);
    expect(summary(events)).toEqual([
      [SECRET_DETAIL_TYPES.failed, P, 'stripe-api-key'],
      [SECRET_DETAIL_TYPES.synced, P, 'Database_Password'],
      [SECRET_DETAIL_TYPES.unchanged, P, 1],
    ]);
    expect(events.find((e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed)?.detail).toMatchObject({
      error: 'SecretAccessDenied',
      message: expect.stringContaining('HTTP 403'),
    });

    // The next listing no longer has it: deleted with the recovery window, as any secret Keywhiz stops listing.
    const next = await s.stack.sync({ accounts: [P] });
    expect(next.status).toBe('SUCCEEDED');
    expect(next.output).toMatchObject({ deleted: 1, failed: 0 });
  });

  test('a listing that fails (HTTP 500) still fails the whole agent and changes nothing', async () => {
    s = await startSyncStack({ env: { KEYWHIZ_MAX_ATTEMPTS: '2' } });
    expect((await s.stack.sync()).status).toBe('SUCCEEDED');
    s.writeSecret(PAYMENTS, 'Database_Password', 'changed while the listing fails');
    s.removeSecret(PAYMENTS, 'stripe-api-key');
    s.keywhiz.beforeAnswer = ({ endpoint, service }) =>
      endpoint === 'list' && service === 'payments' ? 500 : undefined;
    const before = s.storeSnapshot(P);

    const run = await s.stack.sync();
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
    expect(s.storeSnapshot(P)).toEqual(before);
    const failures = (await eventsOf(s, run.name)).filter(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed,
    );
    expect(failures.map((e) => [e.detail.accountId, e.detail.keywhizName ?? null, e.detail.error])).toEqual([
      [P, null, 'KeywhizUnavailable'],
    ]);
  });
});
