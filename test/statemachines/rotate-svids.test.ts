import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, test } from '@jest/globals';
import { validateAuditEvent } from '../../events/schemas';
import type { Dependencies } from '../../functions/shared/dependencies';
import type { RotationRequest } from '../../functions/shared/domain/rotation';
import { StoreThrottled } from '../../functions/shared/domain/errors';
import { checkX509Svid } from '../../functions/shared/domain/svid-rules';
import { decodeSpireSvidSecret } from '../../client/spiffe/spire-secret';
import { probeAcmPca } from '../../bench/acm-pca-probe';
import { probeSecretsManager } from '../../bench/secrets-manager-probe';
import { enrollment, startLocalStack } from '../support/local-run';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const sample = () => [
  enrollment(A, 'payments'),
  enrollment(B, 'ledger', { readerRoles: ['ledger-api', 'ledger-worker'] }),
  enrollment(C, 'reports', { identity: false }),
];

describe('rotate-svids on the local engine', () => {
  test('issues a valid SPIRE-format SVID per identity-enabled enrollment and audits each', async () => {
    const { stack, auditEvents } = await startLocalStack(sample());
    const run = await stack.rotate();
    expect(run.status).toBe('SUCCEEDED');

    const stored = await stack.deps.svids.listOwned();
    expect(stored.map((s) => [s.accountId, s.spiffeId]).sort()).toEqual([
      [A, 'spiffe://example.org/prod/payments'],
      [B, 'spiffe://example.org/prod/ledger'],
    ]);
    const value = await stack.services.secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'trust-bridge/svid/prod/ledger' }),
    );
    const secret = decodeSpireSvidSecret(value.SecretBinary as Uint8Array);
    expect(secret.spiffeID).toBe('spiffe://example.org/prod/ledger');
    const leaf = secret.x509SVID.split(/(?<=-----END CERTIFICATE-----\n?)/)[0] ?? '';
    const violations = await checkX509Svid(leaf, {
      expectedSpiffeId: 'spiffe://example.org/prod/ledger',
      bundlePem: [secret.bundle],
      privateKeyPem: secret.x509SVIDKey,
    });
    expect(violations).toEqual([]);

    const events = await auditEvents(run.name);
    expect(events.map((e) => [e['detail-type'], e.detail.accountId]).sort()).toEqual([
      ['SVID Issued', A],
      ['SVID Issued', B],
    ]);
    for (const event of events) expect(validateAuditEvent(event)).toEqual([]);
  });

  test('a throttled CA (PCA ThrottlingException) is recovered by the Retry with backoff', async () => {
    const { stack } = await startLocalStack(sample());
    const pca = probeAcmPca(stack.services.pca);
    pca.failNext(
      'IssueCertificate',
      // What the SDK throws for PCA's ThrottlingException (this client version has no class for it).
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' }),
      3,
    );
    const run = await stack.rotate();
    expect(run.status).toBe('SUCCEEDED');
    expect(pca.calls.IssueCertificate).toBe(5);
    expect(await stack.deps.svids.listOwned()).toHaveLength(2);
  });

  test('one account failing for good never stops the others, and the run names it for a replay', async () => {
    const { stack, auditEvents } = await startLocalStack(sample());
    // Someone else's secret under B's name: it must never be overwritten.
    await stack.services.secretsManager.send(
      new CreateSecretCommand({ Name: 'trust-bridge/svid/prod/ledger', SecretString: 'not ours' }),
    );
    const failed = await stack.rotate();
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('AccountsFailed');
    expect(JSON.parse(failed.cause ?? '')).toEqual({ accounts: [B], force: false });
    const foreign = await stack.services.secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'trust-bridge/svid/prod/ledger' }),
    );
    expect(foreign.SecretString).toBe('not ours');
    const failure = (await auditEvents(failed.name)).find((e) => e['detail-type'] === 'SVID Rotation Failed');
    expect(failure?.detail).toMatchObject({ accountId: B, error: 'SecretNotOwned' });
    const [payments] = await stack.deps.svids.listOwned();
    expect(payments?.accountId).toBe(A);

    // The owner removes the stray secret; replaying the failed accounts issues B and leaves A alone.
    await stack.services.secretsManager.send(
      new DeleteSecretCommand({
        SecretId: 'trust-bridge/svid/prod/ledger',
        ForceDeleteWithoutRecovery: true,
      }),
    );
    const replay = await stack.rotate(JSON.parse(failed.cause ?? ''));
    expect(replay.status).toBe('SUCCEEDED');
    expect((await auditEvents(replay.name)).map((e) => [e['detail-type'], e.detail.accountId])).toEqual([
      ['SVID Issued', B],
    ]);
    const after = await stack.deps.svids.listOwned();
    expect(after.find((s) => s.accountId === A)?.serial).toBe(payments?.serial);
  });

  test('a rerun inside the renewal window calls no CA and lists the store once; --force renews in two calls each, and a first issuance takes three', async () => {
    // A secret-enabled service's SVID names the sync agent too: the plan judges it by the same readers.
    const D = '444444444444';
    const { stack, auditEvents } = await startLocalStack([
      ...sample(),
      enrollment(D, 'billing', { secrets: true }),
    ]);
    const pca = probeAcmPca(stack.services.pca).calls;
    const sm = probeSecretsManager(stack.services.secretsManager).calls;
    const made = (before: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(sm)
          .map(([op, n]) => [op, n - (before[op] ?? 0)])
          .filter(([, n]) => n !== 0),
      );
    await stack.rotate();
    // A first issuance: the plan listed nothing under the name, so the secret is created without a describe.
    expect(made({})).toEqual({ ListSecrets: 1, CreateSecret: 3, PutResourcePolicy: 3, TagResource: 3 });
    const first = await stack.deps.svids.listOwned();
    const issuedBefore = pca.IssueCertificate;
    const callsBefore = totalCalls(sm);

    const rerun = await stack.rotate();
    expect(rerun.status).toBe('SUCCEEDED');
    expect(pca.IssueCertificate - issuedBefore).toBe(0);
    expect(totalCalls(sm) - callsBefore).toBe(1);
    expect((await auditEvents(rerun.name)).map((e) => e['detail-type'])).toEqual([
      'SVID Renewal Skipped',
      'SVID Renewal Skipped',
      'SVID Renewal Skipped',
    ]);

    // A renewal: the plan's listing travels with each item, so the store is written without being described.
    const before = { ...sm };
    const forced = await stack.rotate({ force: true });
    expect(forced.status).toBe('SUCCEEDED');
    expect(pca.IssueCertificate - issuedBefore).toBe(3);
    expect(made(before)).toEqual({ ListSecrets: 1, PutSecretValue: 3, TagResource: 3 });
    const renewed = await stack.deps.svids.listOwned();
    for (const svid of renewed) {
      expect(svid.serial).not.toBe(first.find((s) => s.secretName === svid.secretName)?.serial);
      expect(svid.committed).toBe(true);
    }
  });

  test('a retried issuance whose write already landed creates no second version', async () => {
    const { stack } = await startLocalStack([enrollment(A, 'payments')], {
      decorate: (deps: Dependencies) => {
        const put = deps.svids.put.bind(deps.svids);
        let calls = 0;
        deps.svids.put = async (write) => {
          const result = await put(write);
          calls += 1;
          if (calls === 1) throw new StoreThrottled('connection reset after the write');
          return result;
        };
        return deps;
      },
    });
    const run = await stack.rotate();
    expect(run.status).toBe('SUCCEEDED');
    const described = await stack.services.secretsManager.send(
      new DescribeSecretCommand({ SecretId: 'trust-bridge/svid/prod/payments' }),
    );
    expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(1);
  });

  test('turning identity off or removing the record deletes the SVID with a recovery window, audited', async () => {
    const { stack, writeEnrollments, auditEvents } = await startLocalStack(sample());
    await stack.rotate();
    writeEnrollments([
      enrollment(A, 'payments', { identity: false }),
      enrollment(C, 'reports', { identity: false }),
    ]);
    // Both SVIDs of the fleet at once: more than MAX_RETIREMENT_SHARE, so the run must say it means it.
    const run = await stack.rotate({ allowMassRetirement: true });
    expect(run.status).toBe('SUCCEEDED');
    const deleted = (await auditEvents(run.name)).filter((e) => e['detail-type'] === 'SVID Deleted');
    expect(deleted.map((e) => [e.detail.accountId, e.detail.reason]).sort()).toEqual([
      [A, 'identity-disabled'],
      [B, 'enrollment-removed'],
    ]);
    for (const event of deleted) expect(validateAuditEvent(event)).toEqual([]);
    const payments = await stack.services.secretsManager.send(
      new DescribeSecretCommand({ SecretId: 'trust-bridge/svid/prod/payments' }),
    );
    const days = ((payments.DeletedDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(payments.DeletedDate).toBeDefined();
    expect(Math.round(days)).toBeGreaterThanOrEqual(0);
  });

  test('an invalid SPIFFE ID fails only its own account, with a clear error', async () => {
    const longPath = 'x'.repeat(170);
    const { stack, auditEvents } = await startLocalStack(
      [
        enrollment(A, 'api'),
        enrollment(B, 'a-service-name-long-enough-to-push-the-uri-over-the-pca-limit-x', {
          readerRoles: ['reader'],
        }),
      ],
      { env: { SPIFFE_ID_TEMPLATE: `spiffe://{trustDomain}/${longPath}/{environment}/{service}` } },
    );
    const run = await stack.rotate();
    expect(run.status).toBe('FAILED');
    expect(JSON.parse(run.cause ?? '').accounts).toEqual([B]);
    const failure = (await auditEvents(run.name)).find((e) => e['detail-type'] === 'SVID Rotation Failed');
    expect(failure?.detail).toMatchObject({ accountId: B, error: 'InvalidSpiffeId' });
    expect(String(failure?.detail.message)).toMatch(/253/);
    expect((await stack.deps.svids.listOwned()).map((s) => s.accountId)).toEqual([A]);
  });

  test('bad input changes nothing: an unknown account, a malformed request, a broken enrollment file', async () => {
    const { stack, writeEnrollments, auditEvents } = await startLocalStack(sample());
    const unknown = await stack.rotate({ accounts: ['999999999999'] });
    expect(unknown.status).toBe('FAILED');
    expect(unknown.error).toBe('InvalidRunRequest');
    expect(unknown.cause).toMatch(/999999999999/);

    const malformed = await stack.rotate({ force: 'yes' } as never);
    expect(malformed.error).toBe('InvalidRunRequest');

    writeEnrollments([enrollment(A, 'payments'), { ...enrollment(B, 'ledger'), accountId: '12' }]);
    const broken = await stack.rotate();
    expect(broken.status).toBe('FAILED');
    expect(broken.error).toBe('InvalidEnrollment');
    expect(broken.cause).toMatch(/accountId/);

    expect(await stack.deps.svids.listOwned()).toEqual([]);
    expect(await auditEvents()).toEqual([]);
  });

  test('a replay from a kept replay input runs exactly its accounts; a replayFrom naming anything else changes nothing', async () => {
    const { stack, auditEvents } = await startLocalStack(sample());
    const bucket = stack.config.RUN_FILES_BUCKET;
    const kept = await stack.deps.runFiles.write('rotate-svids/earlier-run/replay.json', { accounts: [B] });
    expect(kept).toEqual({ bucket, key: 'rotate-svids/earlier-run/replay.json' });

    const refused = [
      [{ replayFrom: { bucket: 'another-bucket', key: kept.key } }, /run files' bucket/],
      [{ replayFrom: { bucket, key: 'rotate-svids/earlier-run/chunks.json' } }, /replay\.json/],
      [{ replayFrom: { bucket, key: 'sync-secrets/earlier-run/replay.json' } }, /rotate-svids run/],
      [{ replayFrom: { bucket, key: 'rotate-svids/never/replay.json' } }, /does not exist/],
      [{ replayFrom: kept, accounts: [A] }, /not both/],
    ] satisfies [Partial<RotationRequest>, RegExp][];
    for (const [request, why] of refused) {
      const run = await stack.rotate(request);
      expect([run.status, run.error]).toEqual(['FAILED', 'InvalidRunRequest']);
      expect(run.cause).toMatch(why);
    }
    expect(await stack.deps.svids.listOwned()).toEqual([]);

    const run = await stack.rotate({ replayFrom: kept });
    expect(run.status).toBe('SUCCEEDED');
    expect((await auditEvents(run.name)).map((e) => [e['detail-type'], e.detail.accountId])).toEqual([
      ['SVID Issued', B],
    ]);
  });

  test("a secret-enabled service's SVID may also be read by its account's sync agent role, and only then", async () => {
    const { stack } = await startLocalStack([
      enrollment(A, 'payments', { secrets: true }),
      enrollment(B, 'ledger'),
    ]);
    expect((await stack.rotate()).status).toBe('SUCCEEDED');
    const readers = async (service: string) => {
      const { ResourcePolicy } = await stack.services.secretsManager.send(
        new GetResourcePolicyCommand({ SecretId: `trust-bridge/svid/prod/${service}` }),
      );
      return JSON.stringify(JSON.parse(ResourcePolicy ?? '{}'));
    };
    expect(await readers('payments')).toContain(`arn:aws:iam::${A}:role/trust-bridge-sync-agent`);
    expect(await readers('payments')).toContain(`arn:aws:iam::${A}:role/payments-reader`);
    expect(await readers('ledger')).not.toContain('trust-bridge-sync-agent');
  });
});

const totalCalls = (calls: Record<string, number>): number => Object.values(calls).reduce((a, b) => a + b, 0);
