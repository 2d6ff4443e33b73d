/**
 * DynamoDB: here the stand-ins replace ports, not an SDK client, so the cases run the ports themselves:
 * FileDeliveryLog against DynamoDbDeliveryLog and FileAccountStatusLog against DynamoDbAccountStatusLog, the
 * DynamoDB adapters over moto with their tables created as infra/webhook.yml and infra/account-status.yml
 * define them.
 *
 * moto never answers BatchWriteItem with UnprocessedItems (its batch_write_item always returns `{}` for them), so
 * the adapter's retry of unprocessed items is covered by test/functions/shared/ports/account-status/account-status.test.ts over
 * aws-sdk-client-mock ("retries UnprocessedItems with backoff…", "throws AccountStatusNotRecorded when items stay
 * unprocessed…").
 */
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  type CreateTableCommandInput,
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { DynamoDbAccountStatusLog } from '../../functions/shared/ports/account-status/dynamodb-account-status';
import { DynamoDbDeliveryLog } from '../../functions/shared/ports/delivery-log/dynamodb-delivery-log';
import { type AccountStatusEntry, InvalidAccountStatus } from '../../functions/shared/domain/account-status';
import type { AccountStatusLog } from '../../functions/shared/ports/account-status/account-status';
import type { DeliveryLog } from '../../functions/shared/ports/delivery-log/delivery-log';
import { FileAccountStatusLog } from '../../local-stack/stand-ins/file-account-status';
import { FileDeliveryLog } from '../../local-stack/stand-ins/file-delivery-log';
import { readCloudFormationYaml } from '../support/cloudformation-yaml';
import { awsOrMotoGap, type BackendKind, backendPair } from './backends';

const INFRA = join(process.cwd(), 'infra');
const DELIVERIES_TABLE = 'trust-bridge-contract-deliveries';
const STATUS_TABLE = 'trust-bridge-contract-account-status';

/** The table's Properties in the template, as CreateTable input (TableName ours), and what is set after creation. */
function tableFromTemplate(file: string, logicalId: string, TableName: string) {
  const template = readCloudFormationYaml(join(INFRA, file));
  const resource = template.Resources?.[logicalId] as { Type?: string; Properties?: Record<string, unknown> };
  if (resource?.Type !== 'AWS::DynamoDB::Table') throw new Error(`${file} has no table ${logicalId}`);
  const {
    AttributeDefinitions,
    KeySchema,
    BillingMode,
    SSESpecification,
    TimeToLiveSpecification,
    PointInTimeRecoverySpecification,
    TableName: _name,
    ...rest
  } = resource.Properties ?? {};
  // A property this helper does not carry over would make the moto table differ from the deployed one.
  if (Object.keys(rest).length > 0)
    throw new Error(`tableFromTemplate does not map ${Object.keys(rest).join(', ')} of ${logicalId}`);
  const create = {
    TableName,
    AttributeDefinitions,
    KeySchema,
    BillingMode,
    ...(SSESpecification !== undefined && {
      SSESpecification: { Enabled: (SSESpecification as { SSEEnabled?: boolean }).SSEEnabled },
    }),
  } as CreateTableCommandInput;
  return {
    create,
    ttl: TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined,
    pointInTimeRecovery: (
      PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined
    )?.PointInTimeRecoveryEnabled,
  };
}

async function createTable(
  client: DynamoDBClient,
  table: ReturnType<typeof tableFromTemplate>,
): Promise<void> {
  await client.send(new CreateTableCommand(table.create));
  const TableName = table.create.TableName;
  if (table.ttl) {
    await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: table.ttl }));
  }
  if (table.pointInTimeRecovery !== undefined) {
    await client.send(
      new UpdateContinuousBackupsCommand({
        TableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: table.pointInTimeRecovery },
      }),
    );
  }
}

/** A port over a backend: the file stand-in, or the DynamoDB adapter over moto with its table created. */
interface PortBackend<P> {
  kind: BackendKind;
  port: P;
  /** moto only: the raw client, to look at the items. */
  dynamo?: DynamoDBClient;
  close(): Promise<void>;
}

interface PortChoice<P> {
  name: string;
  open(): Promise<PortBackend<P>>;
}

const [fileBackend, motoDynamo] = backendPair<unknown, DynamoDBClient>(
  { name: 'files', make: () => undefined },
  { make: (config) => new DynamoDBClient(config) },
);

/** A DynamoDB client in a fresh moto account, with the table created. */
async function openMotoTable(table: ReturnType<typeof tableFromTemplate>) {
  const backend = await motoDynamo.open();
  const dynamo = backend.client as DynamoDBClient;
  await createTable(dynamo, table);
  return { dynamo, close: backend.close };
}

function portPair<P>(
  standIn: { name: string; make(dataDir: string): P },
  adapter: {
    table: () => ReturnType<typeof tableFromTemplate>;
    make(client: DynamoDBClient, tableName: string): P;
  },
): [PortChoice<P>, PortChoice<P>] {
  return [
    {
      name: standIn.name,
      async open() {
        const backend = await fileBackend.open();
        return { kind: 'stand-in', port: standIn.make(backend.dataDir as string), close: backend.close };
      },
    },
    {
      name: 'moto (DynamoDB adapter)',
      async open() {
        const table = adapter.table();
        const { dynamo, close } = await openMotoTable(table);
        return { kind: 'moto', port: adapter.make(dynamo, table.create.TableName as string), dynamo, close };
      },
    },
  ];
}

describe('the tables moto gets are the templates’ tables', () => {
  test.each([
    ['webhook.yml', 'WebhookDeliveries'],
    ['account-status.yml', 'AccountStatusTable'],
  ])('%s %s', async (file, logicalId) => {
    const table = tableFromTemplate(file, logicalId, `contract-${logicalId}`);
    const { dynamo, close } = await openMotoTable(table);
    try {
      const TableName = table.create.TableName;
      const described = (await dynamo.send(new DescribeTableCommand({ TableName }))).Table;
      expect(described?.KeySchema).toEqual(table.create.KeySchema);
      expect(described?.AttributeDefinitions).toEqual(table.create.AttributeDefinitions);
      expect(described?.BillingModeSummary?.BillingMode ?? 'PROVISIONED').toBe(table.create.BillingMode);
      if (table.ttl) {
        const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName }));
        expect(ttl.TimeToLiveDescription).toMatchObject({
          AttributeName: table.ttl.AttributeName,
          TimeToLiveStatus: 'ENABLED',
        });
      }
      if (table.pointInTimeRecovery) {
        const backups = await dynamo.send(new DescribeContinuousBackupsCommand({ TableName }));
        expect(
          backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
        ).toBe('ENABLED');
      }
    } finally {
      await close();
    }
  });
});

const deliveryBackends = portPair<DeliveryLog>(
  { name: 'FileDeliveryLog', make: (dataDir) => new FileDeliveryLog(dataDir) },
  {
    table: () => tableFromTemplate('webhook.yml', 'WebhookDeliveries', DELIVERIES_TABLE),
    make: (client, tableName) => new DynamoDbDeliveryLog(client, { tableName }),
  },
);

describe.each(deliveryBackends)('DeliveryLog contract: $name', ({ open }) => {
  let backend: PortBackend<DeliveryLog>;
  let log: DeliveryLog;
  beforeEach(async () => {
    backend = await open();
    log = backend.port;
  });
  afterEach(() => backend.close());

  test('a conditional claim: first true, second false; a release lets it be claimed again', async () => {
    expect(await log.claim('delivery-1')).toBe(true);
    expect(await log.claim('delivery-1')).toBe(false);
    expect(await log.claim('delivery-2')).toBe(true);
    await log.release('delivery-1');
    expect(await log.claim('delivery-1')).toBe(true);
    expect(await log.claim('delivery-1')).toBe(false);
  });

  test('of concurrent claims of one id exactly one wins', async () => {
    const claims = Array.from({ length: 8 }, () => () => log.claim('raced-delivery'));
    // moto checks a condition and writes the item in two steps, unlocked, on a threaded server: racing it would
    // test moto, so on moto the same claims go one after another.
    const concurrently = awsOrMotoGap(backend.kind, 'dynamodb.conditional-put-race', {
      aws: true,
      moto: false,
    });
    const results: boolean[] = [];
    if (concurrently) results.push(...(await Promise.all(claims.map((claim) => claim()))));
    else for (const claim of claims) results.push(await claim());
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('releasing an id never claimed is no error', async () => {
    await expect(log.release('never-claimed')).resolves.toBeUndefined();
    expect(await log.claim('never-claimed')).toBe(true);
  });

  test('ids with dots, colons, slashes and non-ASCII characters are ids like any other', async () => {
    for (const id of ['a.b', 'urn:keywhiz:1', '../../etc/passwd', 'zürich-∆']) {
      expect(await log.claim(id)).toBe(true);
      expect(await log.claim(id)).toBe(false);
    }
  });
});

const AT = '2030-03-01T00:00:00.000Z';
const account = (i: number) => String(100000000000 + i);
const rotation = (i: number, serial = `0${i}`, service = 'payments'): AccountStatusEntry => ({
  kind: 'rotation',
  accountId: account(i),
  service,
  environment: 'prod',
  at: AT,
  runId: 'run-1',
  serial,
  notAfter: '2030-03-02T00:00:00.000Z',
});
const reconcile = (i: number): AccountStatusEntry => ({
  kind: 'reconcile',
  accountId: account(i),
  service: 'payments',
  environment: 'prod',
  at: AT,
  runId: 'sync-1',
  secretCount: 3,
});
const accountFailure = (i: number): AccountStatusEntry => ({
  kind: 'failure',
  accountId: account(i),
  run: 'sync',
  at: AT,
  runId: 'sync-1',
  error: 'EnrollmentsUnavailable',
  message: 'the registry did not answer',
});
const byKey = (entries: AccountStatusEntry[]) =>
  [...entries].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const statusBackends = portPair<AccountStatusLog>(
  { name: 'FileAccountStatusLog', make: (dataDir) => new FileAccountStatusLog(dataDir) },
  {
    table: () => tableFromTemplate('account-status.yml', 'AccountStatusTable', STATUS_TABLE),
    make: (client, tableName) =>
      new DynamoDbAccountStatusLog(client, { tableName, sleep: async () => undefined }),
  },
);

describe.each(statusBackends)('AccountStatusLog contract: $name', ({ open }) => {
  let backend: PortBackend<AccountStatusLog>;
  let log: AccountStatusLog;
  beforeEach(async () => {
    backend = await open();
    log = backend.port;
  });
  afterEach(() => backend.close());

  test('records several kinds over several accounts; list scans all, list by account queries one', async () => {
    const entries = [rotation(1), reconcile(1), accountFailure(1), rotation(2), rotation(2, '0f', 'ledger')];
    await log.record(entries);
    expect(byKey(await log.list())).toEqual(byKey(entries));
    expect(byKey(await log.list({ accountId: account(2) }))).toEqual(
      byKey([rotation(2), rotation(2, '0f', 'ledger')]),
    );
    expect(await log.list({ accountId: account(3) })).toEqual([]);
  });

  test('a later entry with the same key replaces the record, within one call and across calls', async () => {
    await log.record([rotation(1, 'aa'), rotation(1, 'bb')]);
    expect(await log.list({ accountId: account(1) })).toEqual([rotation(1, 'bb')]);
    await log.record([rotation(1, 'cc')]);
    expect(await log.list({ accountId: account(1) })).toEqual([rotation(1, 'cc')]);
  });

  test('more than one batch (30 records: BatchWriteItem takes 25), every record listed once', async () => {
    const entries = Array.from({ length: 30 }, (_, i) => rotation(i));
    await log.record(entries);
    const progress: number[] = [];
    const listed = await log.list({ onProgress: (read) => progress.push(read) });
    expect(byKey(listed)).toEqual(byKey(entries));
    expect(progress.at(-1)).toBe(30);
  });

  test('a bad entry writes nothing (InvalidAccountStatus)', async () => {
    const bad = { ...rotation(1), notAfter: 'tomorrow' } as AccountStatusEntry;
    await expect(log.record([rotation(2), bad])).rejects.toBeInstanceOf(InvalidAccountStatus);
    expect(await log.list()).toEqual([]);
  });
});

/** What only the DynamoDB side has: the items themselves. The stand-ins' files are pinned by their own tests (test/local-stack/stand-ins/). */
describe('the DynamoDB adapters on moto: the items they leave', () => {
  describe('DynamoDbDeliveryLog', () => {
    let backend: PortBackend<DeliveryLog>;
    let log: DeliveryLog;
    beforeEach(async () => {
      backend = await deliveryBackends[1].open();
      log = backend.port;
    });
    afterEach(() => backend.close());

    test('the item carries the time-to-live attribute the table expires on', async () => {
      const before = Math.floor(Date.now() / 1000);
      await log.claim('with-ttl');
      const dynamo = backend.dynamo as DynamoDBClient;
      const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: DELIVERIES_TABLE }));
      const attribute = ttl.TimeToLiveDescription?.AttributeName as string;
      const item = await dynamo.send(
        new GetItemCommand({ TableName: DELIVERIES_TABLE, Key: { deliveryId: { S: 'with-ttl' } } }),
      );
      const expiresAt = Number(item.Item?.[attribute]?.N);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * 86_400);
      expect(expiresAt).toBeLessThanOrEqual(before + 7 * 86_400 + 60);
    });
  });

  describe('DynamoDbAccountStatusLog', () => {
    let backend: PortBackend<AccountStatusLog>;
    let log: AccountStatusLog;
    beforeEach(async () => {
      backend = await statusBackends[1].open();
      log = backend.port;
    });
    afterEach(() => backend.close());

    test('one item per record, keyed by account and item, each field its own attribute', async () => {
      await log.record([reconcile(1), accountFailure(1)]);
      const dynamo = backend.dynamo as DynamoDBClient;
      const query = await dynamo.send(
        new QueryCommand({
          TableName: STATUS_TABLE,
          KeyConditionExpression: 'accountId = :a',
          ExpressionAttributeValues: { ':a': { S: account(1) } },
        }),
      );
      expect(query.Items?.map((i) => i.item?.S).sort()).toEqual(['failure', 'reconcile#prod/payments']);
      expect(query.Items?.find((i) => i.kind?.S === 'reconcile')?.secretCount).toEqual({ N: '3' });
      // moto answers every BatchWriteItem in full: UnprocessedItems is always empty (see the header).
      const out = await dynamo.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [STATUS_TABLE]: [{ PutRequest: { Item: { accountId: { S: account(9) }, item: { S: 'x' } } } }],
          },
        }),
      );
      expect(out.UnprocessedItems ?? {}).toEqual({});
      expect((await dynamo.send(new ScanCommand({ TableName: STATUS_TABLE }))).Count).toBe(3);
    });
  });
});
