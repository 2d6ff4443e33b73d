import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, test } from '@jest/globals';
import { SECRET_DETAIL_TYPES } from '../../functions/shared/domain/audit';
import { LEDGER, PAYMENTS, SAMPLE_SECRETS, startSyncStack, type SyncStack } from '../support/sync-run';

/**
 * Keywhiz throttling (429) on the local engine: retried by the client within a call, and by the workflow's Retry
 * of the agent's step past that, while a secret that fails on its own still fails alone.
 */

const P = PAYMENTS.accountId;

let s: SyncStack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('a throttling Keywhiz, on the local engine', () => {
  test("throttling past the client's attempts is recovered by the step's Retry; each secret written once", async () => {
    s = await startSyncStack({ env: { KEYWHIZ_MAX_ATTEMPTS: '2' } });
    // Three 429s for payments: its first agent run gives up after 2, its second gets through on its 2nd attempt.
    let throttles = 3;
    s.keywhiz.beforeAnswer = ({ service }) => (service === 'payments' && throttles-- > 0 ? 429 : undefined);

    const run = await s.stack.sync();

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ failed: 0 });
    expect(throttles).toBeLessThan(0);
    for (const name of SAMPLE_SECRETS.payments) expect(await s.versionCount(PAYMENTS, name)).toBe(1);
    for (const name of SAMPLE_SECRETS.ledger) expect(await s.versionCount(LEDGER, name)).toBe(1);
  });

  test('a secret Keywhiz cannot build (500) fails alone; the throttled ones beside it are synced', async () => {
    s = await startSyncStack();
    const throttled = new Set<string>();
    s.keywhiz.beforeAnswer = ({ service, endpoint, names }) => {
      if (service !== 'payments') return undefined;
      if (endpoint === 'batch' || names[0] === 'stripe-api-key') return 500;
      // Each other single request is throttled once.
      const [name] = names;
      if (endpoint === 'single' && name !== undefined && !throttled.has(name)) {
        throttled.add(name);
        return 429;
      }
      return undefined;
    };

    const run = await s.stack.sync();

    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '')).toEqual({ accounts: [P] });
    expect([...throttled].sort()).toEqual(['Database_Password', 'General_Password..0be68f903f8b7d86']);
    expect(await s.versionCount(PAYMENTS, 'Database_Password')).toBe(1);
    expect(await s.versionCount(PAYMENTS, 'General_Password..0be68f903f8b7d86')).toBe(1);
    expect(await s.secretNames(P)).not.toContain(s.nameOf(PAYMENTS, 'stripe-api-key'));
    const failures = (await s.auditEvents(run.name)).filter(
      (e) => e['detail-type'] === SECRET_DETAIL_TYPES.failed,
    );
    expect(failures.map((e) => [e.detail.keywhizName, e.detail.error])).toEqual([
      ['stripe-api-key', 'KeywhizUnavailable'],
    ]);
  });

  test("Keywhiz's throttling has its own Retry budget: it does not spend the one Secrets Manager's throttling needs", async () => {
    s = await startSyncStack({ env: { KEYWHIZ_MAX_ATTEMPTS: '1' } });
    // The agent's first 3 runs fail on its own store (StoreThrottled), the next 2 on Keywhiz (KeywhizUnavailable):
    // 5 failures, more than the 4 retries one shared budget would allow.
    s.probe(P).failNext(
      'ListSecrets',
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
      3,
    );
    // Once the store's throttles are spent (its 4th listing, made as the agent asks Keywhiz for its own), Keywhiz
    // throttles the next 2 runs.
    let throttled = 0;
    s.keywhiz.beforeAnswer = ({ service, endpoint }) => {
      if (service !== 'payments' || endpoint !== 'list') return undefined;
      if ((s?.calls(P).ListSecrets ?? 0) < 4 || throttled >= 2) return undefined;
      throttled += 1;
      return 429;
    };

    const run = await s.stack.sync();

    expect(run.status).toBe('SUCCEEDED');
    expect(throttled).toBe(2);
    expect(s.calls(P).ListSecrets).toBe(6);
    for (const name of SAMPLE_SECRETS.payments) expect(await s.versionCount(PAYMENTS, name)).toBe(1);
  });
});
