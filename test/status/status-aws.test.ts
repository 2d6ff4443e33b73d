import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { type SvidStatus, statusCommand } from '../../cli/status';
import { verifyCommand } from '../../cli/verify';
import { MANAGED_BY_VALUE, SVID_TAG } from '../../functions/shared/domain/svid-secret';

// aws-sdk-client-mock is typed against another @smithy/types than the clients hoist: cast for the type checker only.
const dynamo = mockClient(DynamoDBClient as never);
const secretsManager = mockClient(SecretsManagerClient as never);
const Scan = ScanCommand as never;
const ListSecrets = ListSecretsCommand as never;
const GetSecretValue = GetSecretValueCommand as never;

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

beforeEach(() => {
  dynamo.reset();
  secretsManager.reset();
  secretsManager.on(ListSecrets).resolves({
    SecretList: [
      {
        Name: 'trust-bridge/svid/prod/payments',
        ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:trust-bridge/svid/prod/payments-AbCdEf',
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      },
    ],
  } as never);
});

describe('status and verify --aws', () => {
  it('status reads the SVID tags from Secrets Manager and the stage’s status table, every page', async () => {
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
    const [row] = JSON.parse(out.join('\n')) as SvidStatus[];
    expect(row).toMatchObject({
      accountId: P,
      spiffeId: 'spiffe://example.org/prod/payments',
      serial: 'ab12',
      expiresInSeconds: 4 * 3600,
      expiresSoon: true,
      syncedSecrets: 3,
      lastRotation: null,
    });
    expect(
      dynamo.commandCalls(Scan).map((c) => (c.args[0].input as { TableName: string }).TableName),
    ).toEqual(['trust-bridge-prod-account-status', 'trust-bridge-prod-account-status']);
  });

  it('verify says which account has no SVID', async () => {
    const errors: string[] = [];
    const code = await verifyCommand(['--aws', '--account', '777788889999'], () => undefined, {
      env: {},
      error: (l) => errors.push(l),
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain(
      'account 777788889999 has no SVID in Secrets Manager and trust-bridge-dev-account-status',
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
});
