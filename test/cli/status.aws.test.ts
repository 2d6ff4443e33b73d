import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { mockDeployedStacks } from '../support/deployed-stacks';
import { type SvidStatus, statusCommand } from '../../cli/status';
import { type SvidVerification, verifyCommand } from '../../cli/verify';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { SecretsManagerSvidStore } from '../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import { MANAGED_BY_VALUE, SVID_TAG } from '../../functions/shared/domain/svid-secret';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca/software-ca';

// aws-sdk-client-mock is typed against another @smithy/types than the clients hoist: cast for the type checker only.
const stacks = mockDeployedStacks();
const dynamo = mockClient(DynamoDBClient as never);
const secretsManager = mockClient(SecretsManagerClient as never);
const Scan = ScanCommand as never;
const ListSecrets = ListSecretsCommand as never;
const GetSecretValue = GetSecretValueCommand as never;

/** What the deployed stacks' outputs name: a table and a prefix no stage convention gives. */
const PROD_TABLE = 'tb-prod-AccountStatusTable-1X2Y3Z';
const DEV_TABLE = 'tb-dev-AccountStatusTable-9Q8R7S';
const stackOutputs = (table: string, prefix = 'trust-bridge/svid/', trustDomain = 'example.org') => ({
  AccountStatusTableName: table,
  SvidSecretPrefix: prefix,
  TrustDomain: trustDomain,
});
const deployed = stacks.deploy;
const describedStacks = stacks.described;
const scannedTables = () =>
  dynamo.commandCalls(Scan).map((c) => (c.args[0].input as { TableName: string }).TableName);

const P = '111122223333';
const NOT_AFTER = '2025-03-02T12:00:00.000Z';
const tags = {
  [SVID_TAG.managedBy]: MANAGED_BY_VALUE,
  [SVID_TAG.spiffeId]: 'spiffe://example.org/prod/payments',
  [SVID_TAG.serial]: 'ab12',
  [SVID_TAG.notAfter]: NOT_AFTER,
  [SVID_TAG.service]: 'payments',
  [SVID_TAG.environment]: 'prod',
  [SVID_TAG.accountId]: P,
};

const PAYMENTS_ARN =
  'arn:aws:secretsmanager:eu-west-1:000000000000:secret:trust-bridge/svid/prod/payments-AbCdEf';

beforeEach(() => {
  stacks.reset();
  dynamo.reset();
  secretsManager.reset();
  deployed('trust-bridge-prod', stackOutputs(PROD_TABLE));
  deployed('trust-bridge-dev', stackOutputs(DEV_TABLE));
  secretsManager.on(ListSecrets).resolves({
    SecretList: [
      {
        Name: 'trust-bridge/svid/prod/payments',
        ARN: PAYMENTS_ARN,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      },
      // Another deployment's SVID in the same account (its stack's SvidSecretPrefix is another).
      {
        Name: 'trust-bridge-staging/svid/prod/payments',
        ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:trust-bridge-staging/svid/prod/payments-GhIjKl',
        Tags: Object.entries({ ...tags, [SVID_TAG.serial]: 'ff99' }).map(([Key, Value]) => ({ Key, Value })),
      },
    ],
  } as never);
});

describe('status and verify --aws', () => {
  it('status reads the SVID tags under the stack’s SvidSecretPrefix and the table its outputs name, every page', async () => {
    dynamo
      .on(Scan)
      .resolvesOnce({
        Items: [
          {
            accountId: { S: P },
            item: { S: 'reconcile#prod/payments' },
            kind: { S: 'reconcile' },
            service: { S: 'payments' },
            environment: { S: 'prod' },
            at: { S: '2025-03-01T12:00:00.000Z' },
            runId: { S: 'sync-1' },
            secretCount: { N: '3' },
          },
        ],
        LastEvaluatedKey: { accountId: { S: P }, item: { S: 'reconcile#prod/payments' } },
      } as never)
      .resolvesOnce({ Items: [] } as never);
    const out: string[] = [];
    const code = await statusCommand(
      ['--aws', '--stage', 'prod', '--region', 'eu-west-1', '--json'],
      (l) => out.push(l),
      {
        env: {},
        now: () => new Date('2025-03-02T08:00:00.000Z'),
      },
    );
    expect(code).toBe(1);
    const rows = JSON.parse(out.join('\n')) as SvidStatus[];
    // The staging SVID (serial ff99) lies outside this stack's prefix.
    expect(rows.map((r) => r.serial)).toEqual(['ab12']);
    const [row] = rows;
    expect(row).toMatchObject({
      accountId: P,
      spiffeId: 'spiffe://example.org/prod/payments',
      serial: 'ab12',
      expiresInSeconds: 4 * 3600,
      expiresSoon: true,
      syncedSecrets: 3,
      lastRotation: null,
    });
    expect(scannedTables()).toEqual([PROD_TABLE, PROD_TABLE]);
    expect(describedStacks()).toEqual(['trust-bridge-prod']);
  });

  it('status with another SvidSecretPrefix shows that deployment’s SVIDs only', async () => {
    deployed('trust-bridge-staging', stackOutputs(DEV_TABLE, 'trust-bridge-staging/svid/'));
    dynamo.on(Scan).resolves({ Items: [] } as never);
    const out: string[] = [];
    const code = await statusCommand(
      ['--aws', '--stack', 'trust-bridge-staging', '--json'],
      (l) => out.push(l),
      { env: {}, now: () => new Date('2025-03-01T08:00:00.000Z') },
    );
    expect(code).toBe(0);
    expect((JSON.parse(out.join('\n')) as SvidStatus[]).map((r) => r.serial)).toEqual(['ff99']);
    expect(describedStacks()).toEqual(['trust-bridge-staging']);
  });

  it('status names the stack and the output it lacks, and reads nothing else', async () => {
    deployed('trust-bridge-prod', { SvidSecretPrefix: 'trust-bridge/svid/' });
    const errors: string[] = [];
    const code = await statusCommand(['--aws', '--stage', 'prod'], () => undefined, {
      env: {},
      error: (l) => errors.push(l),
    });
    expect(code).toBe(1);
    expect(errors).toEqual([
      'stack trust-bridge-prod has no output AccountStatusTableName: deploy this version first',
    ]);
    expect(dynamo.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('status names the stack when it is not deployed', async () => {
    const errors: string[] = [];
    const code = await statusCommand(['--aws', '--stage', 'qa', '--region', 'eu-west-1'], () => undefined, {
      env: {},
      error: (l) => errors.push(l),
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain('no stack trust-bridge-qa in region eu-west-1');
    expect(describedStacks()).toEqual(['trust-bridge-qa']);
  });

  it('verify says which account has no SVID', async () => {
    const errors: string[] = [];
    const code = await verifyCommand(['--aws', '--account', '777788889999'], () => undefined, {
      env: {},
      error: (l) => errors.push(l),
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain(
      `account 777788889999 has no SVID in trust-bridge-dev (Secrets Manager trust-bridge/svid/*, table ${DEV_TABLE})`,
    );
  });

  it('verify fails the read when the SVID policy denies the caller, and says who may read', async () => {
    secretsManager.on(GetSecretValue).rejects(
      Object.assign(new Error('explicit deny in a resource-based policy'), {
        name: 'AccessDeniedException',
      }),
    );
    const out: string[] = [];
    const code = await verifyCommand(['--aws', '--account', P], (l) => out.push(l), { env: {} });
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(
      /FAIL {2}read {2}AccessDeniedException: explicit deny .*only its account's reader roles and the issuer role/,
    );
  });

  it('verify checks the SPIFFE ID against the stack’s TrustDomain output (--trust-domain overrides it)', async () => {
    const spiffeId = 'spiffe://corp.example/prod/payments';
    const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-verify-aws-'));
    const ca = await SoftwareCertificateAuthority.open(join(dir, 'ca'), 'corp.example');
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const issued = await ca.issue({ csrPem, spiffeId, notBefore: new Date() });
    const leaf = new X509Certificate(issued.certificatePem);
    // A complete SVID, as the issuer writes it (value, policy, tags, commit), answered through the mock.
    const written = new LocalSecretsManager({ dataDir: dir, accountId: '000000000000', region: 'eu-west-1' });
    await new SecretsManagerSvidStore(written, {
      kmsKeyId: 'alias/trust-bridge-svids',
      issuerRoleArn: 'arn:aws:iam::000000000000:role/trust-bridge-issue-svid',
    }).put({
      secretName: 'trust-bridge/svid/prod/payments',
      service: 'payments',
      environment: 'prod',
      accountId: P,
      readerRoles: [`arn:aws:iam::${P}:role/payments`],
      issuanceToken: '11111111-2222-4333-8444-555555555555',
      spiffeId,
      serial: leaf.serialNumber.toLowerCase(),
      notAfter: new Date(leaf.validTo).toISOString(),
      secret: {
        spiffeID: spiffeId,
        x509SVID: [issued.certificatePem, ...issued.chainPem].join(''),
        x509SVIDKey: privateKeyPem,
        bundle: (await ca.bundle()).join(''),
        federatedBundles: {},
      },
    });
    secretsManager
      .on(ListSecrets)
      .callsFake((input) => written.send(new ListSecretsCommand(input as never) as never));
    secretsManager
      .on(GetSecretValue)
      .callsFake((input) => written.send(new GetSecretValueCommand(input as never) as never));
    secretsManager
      .on(GetResourcePolicyCommand as never)
      .callsFake((input) => written.send(new GetResourcePolicyCommand(input as never) as never));
    deployed('trust-bridge-prod', stackOutputs(PROD_TABLE, 'trust-bridge/svid/', 'corp.example'));
    const spiffeCheck = async (...extra: string[]) => {
      const out: string[] = [];
      const code = await verifyCommand(
        ['--aws', '--stage', 'prod', '--account', P, '--json', ...extra],
        (l) => out.push(l),
        { env: {} },
      );
      const [result] = JSON.parse(out.join('\n')) as SvidVerification[];
      return { code, check: result?.checks.find((c) => c.check === 'SPIFFE ID') };
    };

    const fromStack = await spiffeCheck();
    expect(fromStack.check).toMatchObject({
      result: 'pass',
      detail: expect.stringContaining('corp.example'),
    });
    expect(fromStack.code).toBe(0);
    const overridden = await spiffeCheck('--trust-domain', 'example.org');
    expect(overridden.check?.result).toBe('fail');
    expect(overridden.code).toBe(1);
    // One DescribeStacks per command run, whatever it reads.
    expect(describedStacks()).toEqual(['trust-bridge-prod', 'trust-bridge-prod']);
  });
});
