import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type SvidStatus, statusCommand } from '../../cli/status';
import { type SvidVerification, verifyCommand } from '../../cli/verify';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { encodeSpireSvidSecret, type SpireSvidSecret } from '../../client/spiffe/spire-secret';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca/software-ca';
import {
  LEDGER,
  PAYMENTS,
  SAMPLE_SECRETS,
  SEARCH,
  type SyncStack,
  startSyncStack,
} from '../support/sync-run';

const HOUR = 3_600_000;
const P = PAYMENTS.accountId;
const L = LEDGER.accountId;
const S = SEARCH.accountId;
const PAYMENTS_SECRET = 'trust-bridge/svid/prod/payments';

/** Runs a command, collecting what it prints (stdout and errors apart). */
const run = async (
  command: typeof statusCommand,
  argv: string[],
  options: { now?: Date; env?: Record<string, string> } = {},
) => {
  const out: string[] = [];
  const errors: string[] = [];
  const code = await command(argv, (line) => out.push(line), {
    error: (line) => errors.push(line),
    env: options.env ?? {},
    ...(options.now ? { now: () => options.now as Date } : {}),
  });
  return { code, out: out.join('\n'), errors: errors.join('\n') };
};

let s: SyncStack;
let rotationRunId: string;
let failedSyncRunId: string;
let notAfter: Date;
let original: SpireSvidSecret;

beforeAll(async () => {
  s = await startSyncStack();
  rotationRunId = s.stack.engine.listExecutions({ stateMachineName: 'rotate-svids' })[0]?.name ?? '';
  // Ledger's account refuses its agent: that account fails, payments syncs.
  const denied = Object.assign(new Error('not authorized to list secrets'), {
    name: 'AccessDeniedException',
  });
  s.probe(L).failNext('ListSecrets', denied, 1);
  const sync = await s.stack.sync();
  expect(sync.status).toBe('FAILED');
  failedSyncRunId = sync.name;
  original = await s.stack.deps.svids.read(PAYMENTS_SECRET);
  notAfter = new Date(new X509Certificate(original.x509SVID).validTo);
});
afterAll(async () => {
  await s.close();
});

const statusRows = async (options: { now?: Date } = {}, extra: string[] = []) => {
  const result = await run(statusCommand, ['--data-dir', s.dataDir, '--json', ...extra], options);
  return { ...result, rows: JSON.parse(result.out) as SvidStatus[] };
};

describe('trust-bridge status', () => {
  it('shows each enrolled account with its SVID, last rotation, last sync, synced count and last failure', async () => {
    const { code, rows } = await statusRows();
    expect(code).toBe(0);
    expect(rows.map((r) => [r.accountId, r.spiffeId])).toEqual([
      [S, 'spiffe://example.org/prod/search'],
      [P, 'spiffe://example.org/prod/payments'],
      [L, 'spiffe://example.org/prod/ledger'],
    ]);
    const byAccount = new Map(rows.map((r) => [r.accountId, r]));
    const payments = byAccount.get(P) as SvidStatus;
    // The serial is the stored certificate's own, not just a tag echoed back.
    expect(payments.serial).toBe(new X509Certificate(original.x509SVID).serialNumber.toLowerCase());
    expect(payments.notAfter).toBe(notAfter.toISOString());
    expect(payments.expiresSoon).toBe(false);
    expect(payments.expiresInSeconds).toBeGreaterThan(23 * 3600);
    expect(payments.lastRotation?.runId).toBe(rotationRunId);
    expect(payments.lastSync?.runId).toBe(failedSyncRunId);
    expect(payments.syncedSecrets).toBe(SAMPLE_SECRETS.payments.length);
    expect(payments.lastFailure).toBeNull();

    const ledger = byAccount.get(L) as SvidStatus;
    expect(ledger.lastRotation?.runId).toBe(rotationRunId);
    expect(ledger.lastSync).toBeNull();
    expect(ledger.syncedSecrets).toBeNull();
    expect(ledger.lastFailure).toEqual({
      at: expect.any(String),
      runId: failedSyncRunId,
      run: 'sync',
      error: 'AccessDeniedException',
      message: expect.stringContaining('not authorized to list secrets'),
    });

    // Identity only: never synced.
    const search = byAccount.get(S) as SvidStatus;
    expect([search.lastSync, search.syncedSecrets, search.lastFailure]).toEqual([null, null, null]);
  });

  it('a later good sync records the count and keeps the last failure with its time', async () => {
    const resync = await s.stack.sync({ accounts: [L] });
    expect(resync.status).toBe('SUCCEEDED');
    const ledger = (await statusRows({}, ['--account', L])).rows;
    expect(ledger).toHaveLength(1);
    expect(ledger[0]?.syncedSecrets).toBe(SAMPLE_SECRETS.ledger.length);
    expect(ledger[0]?.lastSync?.runId).toBe(resync.name);
    expect(ledger[0]?.lastFailure?.runId).toBe(failedSyncRunId);
  });

  it('a one-secret sync updates the last sync but keeps the account total from the last full reconcile', async () => {
    const [first] = SAMPLE_SECRETS.payments;
    const targeted = await s.stack.sync({ secret: String(first) });
    expect(targeted.status).toBe('SUCCEEDED');
    const payments = (await statusRows({}, ['--account', P])).rows[0];
    expect(payments?.lastSync?.runId).toBe(targeted.name);
    expect(payments?.syncedSecrets).toBe(SAMPLE_SECRETS.payments.length);
  });

  it('marks SVIDs within 6 h of expiry, counts them, and exits 1', async () => {
    const later = { now: new Date(notAfter.getTime() - 5 * HOUR) };
    const { code, rows } = await statusRows(later);
    expect(code).toBe(1);
    expect(rows.every((r) => r.expiresSoon && !r.expired)).toBe(true);

    const table = await run(statusCommand, ['--data-dir', s.dataDir], later);
    expect(table.code).toBe(1);
    const payments = table.out.split('\n').find((line) => line.startsWith(P)) ?? '';
    expect(payments).toMatch(/! 4h 59m|! 5h 00m/);
    expect(table.out).toContain('! 3 of 3 SVIDs expired or expire within 6 h');

    const earlier = await run(statusCommand, ['--data-dir', s.dataDir], {
      now: new Date(notAfter.getTime() - 7 * HOUR),
    });
    expect(earlier.code).toBe(0);
    expect(earlier.out).not.toContain('!');
    expect(earlier.out).toContain('3 SVIDs, none expiring within 6 h');
    expect(earlier.out).toMatch(
      /ACCOUNT +SPIFFE ID +SERIAL +EXPIRES IN +LAST ROTATION +LAST SYNC +SECRETS +LAST FAILURE/,
    );
    expect(earlier.out).toContain('AccessDeniedException');
  });

  it('an expired SVID counts as expiring', async () => {
    const { code, rows } = await statusRows({ now: new Date(notAfter.getTime() + HOUR) });
    expect(code).toBe(1);
    expect(rows.find((r) => r.accountId === P)).toMatchObject({
      expired: true,
      expiresSoon: true,
      expiresInSeconds: 0,
    });
  });

  it('says clearly when an account has no SVID, an account id is malformed, or there is no local stack', async () => {
    const unknown = await run(statusCommand, ['--data-dir', s.dataDir, '--account', '999999999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toContain('account 999999999999 has no SVID');
    const malformed = await run(statusCommand, ['--data-dir', s.dataDir, '--account', '12']);
    expect(malformed.code).toBe(2);
    expect(malformed.errors).toContain('--account 12 is not an AWS account id');
    const nowhere = join(mkdtempSync(join(tmpdir(), 'trust-bridge-empty-')), 'none');
    const empty = await run(statusCommand, ['--data-dir', nowhere]);
    expect(empty.code).toBe(1);
    expect(empty.errors).toContain(`no local stack in ${nowhere}`);
    const awsOnly = await run(statusCommand, ['--data-dir', s.dataDir, '--region', 'eu-west-1']);
    expect(awsOnly.code).toBe(2);
    expect(awsOnly.errors).toContain('--region needs --aws');
  });
});

describe('trust-bridge verify', () => {
  const sm = () => s.stack.services.secretsManager;
  /** Replaces payments' SVID value (a new current version; tags unchanged), runs verify, puts the original back. */
  const verifyTampered = async (change: Partial<SpireSvidSecret>, now?: Date) => {
    const described = await sm().send(new DescribeSecretCommand({ SecretId: PAYMENTS_SECRET }));
    const [originalVersion] = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes('AWSCURRENT'),
    ) ?? [''];
    const put = await sm().send(
      new PutSecretValueCommand({
        SecretId: PAYMENTS_SECRET,
        SecretBinary: encodeSpireSvidSecret({ ...original, ...change }),
      }),
    );
    try {
      return await verifyPayments(now);
    } finally {
      // The original version current again, as its commit tag names it.
      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId: PAYMENTS_SECRET,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: originalVersion,
          RemoveFromVersionId: put.VersionId,
        }),
      );
    }
  };
  const verifyPayments = async (now?: Date) => {
    const text = await run(verifyCommand, ['--data-dir', s.dataDir, '--account', P], now ? { now } : {});
    const json = await run(
      verifyCommand,
      ['--data-dir', s.dataDir, '--account', P, '--json'],
      now ? { now } : {},
    );
    const [result] = JSON.parse(json.out) as SvidVerification[];
    expect(json.code).toBe(text.code);
    const failed = (result?.checks ?? []).filter((c) => c.result === 'fail');
    return { ...text, result, failed: failed.map((c) => c.check), details: failed.map((c) => c.detail) };
  };
  const noKeyMaterial = (out: string) => {
    expect(out).not.toMatch(/-----BEGIN|PRIVATE KEY/);
    for (const pem of [original.x509SVIDKey, original.x509SVID, original.bundle]) {
      const body = pem.split('\n')[1] ?? '';
      expect(out).not.toContain(body);
    }
  };

  it('passes every check of a real SVID, one line each, without printing a key or a certificate', async () => {
    const { code, out, result } = await verifyPayments();
    expect(code).toBe(0);
    expect(result?.checks.map((c) => [c.check, c.result])).toEqual([
      ['SPIFFE ID', 'pass'],
      ['leaf profile', 'pass'],
      ['chain to bundle', 'pass'],
      ['private key', 'pass'],
      ['expiry', 'pass'],
      ['tags', 'pass'],
      ['write complete', 'pass'],
      ['resource policy', 'pass'],
    ]);
    expect(out).toMatch(
      /^ {2}pass {2}resource policy +only payments-reader, trust-bridge-sync-agent of \d{12} and the issuer arn:aws:iam::\d{12}:role\/trust-bridge-issue-svid may read it$/m,
    );
    expect(out).toMatch(/^ {2}pass {2}SPIFFE ID +spiffe:\/\/example.org\/prod\/payments is the one URI SAN/m);
    expect(out).toContain('1 of 1 SVIDs pass every check');
    noKeyMaterial(out);
  });

  it('fails a key that is not the certificate’s', async () => {
    const { privateKeyPem } = await createSvidKeyAndCsr('spiffe://example.org/prod/payments');
    const { code, out, failed, details } = await verifyTampered({ x509SVIDKey: privateKeyPem });
    expect(code).toBe(1);
    expect(failed).toEqual(['private key', 'write complete']);
    expect(details[0]).toBe("the private key does not match the certificate's public key");
    expect(out).toMatch(/^ {2}FAIL {2}private key/m);
    expect(out).not.toContain(privateKeyPem.split('\n')[1]);
    noKeyMaterial(out);
  });

  it('fails a certificate that does not chain to the bundle', async () => {
    const otherCa = await SoftwareCertificateAuthority.open(
      mkdtempSync(join(tmpdir(), 'trust-bridge-other-ca-')),
      'example.org',
    );
    const { code, failed, details } = await verifyTampered({ bundle: (await otherCa.bundle()).join('\n') });
    expect(code).toBe(1);
    expect(failed).toEqual(['chain to bundle', 'write complete']);
    expect(details[0]).toContain('does not chain to the trust bundle');
  });

  it('fails an expired SVID and warns within 6 h of expiry', async () => {
    const expired = await verifyPayments(new Date(notAfter.getTime() + 60_000));
    expect(expired.code).toBe(1);
    expect(expired.failed).toContain('expiry');
    expect(expired.details.find((d) => d.includes('expired at'))).toContain(notAfter.toISOString());

    const soon = await verifyPayments(new Date(notAfter.getTime() - HOUR));
    expect(soon.code).toBe(0);
    expect(soon.result?.checks.find((c) => c.check === 'expiry')).toMatchObject({
      result: 'warn',
      detail: expect.stringContaining('1h 00m left'),
    });
    expect(soon.out).toMatch(/^ {2}WARN {2}expiry/m);
  });

  it('fails a wrong SPIFFE ID: in the secret, or a certificate of another service', async () => {
    const field = await verifyTampered({ spiffeID: 'spiffe://example.org/prod/ledger' });
    expect(field.code).toBe(1);
    expect(field.failed).toEqual(['SPIFFE ID', 'write complete']);
    expect(field.details[0]).toContain(
      "the secret's spiffeID is spiffe://example.org/prod/ledger, its tag says spiffe://example.org/prod/payments",
    );

    const ledger = await s.stack.deps.svids.read('trust-bridge/svid/prod/ledger');
    const swapped = await verifyTampered({ x509SVID: ledger.x509SVID, x509SVIDKey: ledger.x509SVIDKey });
    expect(swapped.code).toBe(1);
    expect(swapped.failed).toEqual(['SPIFFE ID', 'tags', 'write complete']);
    expect(swapped.details[0]).toContain(
      'its SPIFFE ID is spiffe://example.org/prod/ledger, expected spiffe://example.org/prod/payments',
    );
  });

  it('fails an SVID with no resource policy, or with one other than written for it', async () => {
    const { ResourcePolicy: written } = await sm().send(
      new GetResourcePolicyCommand({ SecretId: PAYMENTS_SECRET }),
    );
    try {
      await sm().send(new DeleteResourcePolicyCommand({ SecretId: PAYMENTS_SECRET }));
      const none = await verifyPayments();
      expect(none.code).toBe(1);
      expect(none.failed).toEqual(['resource policy']);
      expect(none.details[0]).toMatch(
        /^none: any principal the account's IAM allows may read it; the next rotation/,
      );

      // Another role of the account let in: a valid policy, but not the one written for the enrollment.
      const widened = (written as string).replaceAll(':role/payments-reader"', ':role/payments-admin"');
      expect(widened).not.toBe(written);
      await sm().send(new PutResourcePolicyCommand({ SecretId: PAYMENTS_SECRET, ResourcePolicy: widened }));
      const wrong = await verifyPayments();
      expect(wrong.code).toBe(1);
      expect(wrong.failed).toEqual(['resource policy']);
      expect(wrong.details[0]).toContain('not the policy written for it');
    } finally {
      await sm().send(new PutResourcePolicyCommand({ SecretId: PAYMENTS_SECRET, ResourcePolicy: written }));
    }
  });

  it('fails tags that do not describe the current certificate, and a write that did not finish', async () => {
    const described = await sm().send(new DescribeSecretCommand({ SecretId: PAYMENTS_SECRET }));
    const serial = described.Tags?.find((t) => t.Key === 'trust-bridge:serial')?.Value as string;
    const setSerial = (Value: string) =>
      sm().send(
        new TagResourceCommand({ SecretId: PAYMENTS_SECRET, Tags: [{ Key: 'trust-bridge:serial', Value }] }),
      );
    await setSerial('0badc0de');
    try {
      const stale = await verifyPayments();
      expect(stale.code).toBe(1);
      expect(stale.failed).toEqual(['tags', 'write complete']);
      expect(stale.details[1]).toContain('the last write did not finish');
    } finally {
      await setSerial(serial);
    }
    expect((await verifyPayments()).code).toBe(0);
  });

  it('fails a trust domain other than the deployment’s', async () => {
    const other = await run(verifyCommand, [
      '--data-dir',
      s.dataDir,
      '--account',
      P,
      '--trust-domain',
      'corp.example',
    ]);
    expect(other.code).toBe(1);
    expect(other.out).toContain('its trust domain is example.org, expected corp.example');
  });

  it('an unknown or malformed account is a clear error', async () => {
    const unknown = await run(verifyCommand, ['--data-dir', s.dataDir, '--account', '999999999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toContain('account 999999999999 has no SVID');
    const missing = await run(verifyCommand, ['--data-dir', s.dataDir]);
    expect(missing.code).toBe(2);
    expect(missing.errors).toContain('--account is required');
  });
});
