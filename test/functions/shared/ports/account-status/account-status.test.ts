import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  QueryCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbAccountStatusLog } from '../../../../../functions/shared/ports/account-status/dynamodb-account-status';
import type { AccountStatusEntry } from '../../../../../functions/shared/domain/account-status';
import { FileAccountStatusLog } from '../../../../../local-stack/stand-ins/file-account-status';

// aws-sdk-client-mock is typed against another @smithy/types than the clients hoist: cast for the type checker only.
const dynamo = mockClient(DynamoDBClient as never);
const BatchWriteItem = BatchWriteItemCommand as never;
const Scan = ScanCommand as never;
const Query = QueryCommand as never;

const AT = '2025-03-01T00:00:00.000Z';
const account = (i: number) => String(100000000000 + i);
const rotation = (i: number, serial = `0${i}`): AccountStatusEntry => ({
  kind: 'rotation',
  accountId: account(i),
  service: 'payments',
  environment: 'prod',
  at: AT,
  runId: 'run-1',
  serial,
  notAfter: '2025-03-02T00:00:00.000Z',
});
const reconcile: AccountStatusEntry = {
  kind: 'reconcile',
  accountId: account(1),
  service: 'payments',
  environment: 'prod',
  at: AT,
  runId: 'sync-1',
  secretCount: 3,
};
const accountFailure: AccountStatusEntry = {
  kind: 'failure',
  accountId: account(1),
  run: 'sync',
  at: AT,
  runId: 'sync-1',
  error: 'EnrollmentsUnavailable',
  message: 'the registry did not answer',
};

let dir: string;
beforeEach(() => {
  dynamo.reset();
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-status-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DynamoDbAccountStatusLog', () => {
  const sleeps: number[] = [];
  const log = (maxAttempts?: number) =>
    new DynamoDbAccountStatusLog(new DynamoDBClient({ region: 'us-east-1' }), {
      tableName: 'status',
      ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      sleep: async (ms) => void sleeps.push(ms),
    });
  const written = () =>
    dynamo
      .commandCalls(BatchWriteItem)
      .map(
        (c) =>
          (c.args[0].input as { RequestItems: Record<string, WriteRequest[]> }).RequestItems.status ?? [],
      );
  beforeEach(() => void sleeps.splice(0));

  it('puts each entry as an item keyed by account and item, 25 per BatchWriteItem', async () => {
    dynamo.on(BatchWriteItem).resolves({} as never);
    await log().record([...Array.from({ length: 29 }, (_, i) => rotation(i)), reconcile, accountFailure]);
    const batches = written();
    expect(batches.map((b) => b.length)).toEqual([25, 6]);
    expect(batches[0]?.[0]).toEqual({
      PutRequest: {
        Item: {
          accountId: { S: account(0) },
          item: { S: 'rotation#prod/payments' },
          kind: { S: 'rotation' },
          service: { S: 'payments' },
          environment: { S: 'prod' },
          at: { S: AT },
          runId: { S: 'run-1' },
          serial: { S: '00' },
          notAfter: { S: '2025-03-02T00:00:00.000Z' },
        },
      },
    });
    const items = batches[1]?.map((r) => r.PutRequest?.Item) ?? [];
    expect(items.find((i) => i?.kind?.S === 'reconcile')).toMatchObject({
      item: { S: 'reconcile#prod/payments' },
      secretCount: { N: '3' },
    });
    expect(items.find((i) => i?.kind?.S === 'failure')).toMatchObject({ item: { S: 'failure' } });
  });

  it('retries UnprocessedItems with backoff until all are written', async () => {
    // The first answer leaves two items unprocessed; the second call must carry exactly those.
    let call = 0;
    dynamo.on(BatchWriteItem).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => {
      call += 1;
      const requests = input.RequestItems.status ?? [];
      return call === 1 ? { UnprocessedItems: { status: requests.slice(1, 3) } } : {};
    });
    await log().record([rotation(1), rotation(2), rotation(3)]);
    const batches = written();
    expect(batches.map((b) => b.map((r) => r.PutRequest?.Item?.accountId?.S))).toEqual([
      [account(1), account(2), account(3)],
      [account(2), account(3)],
    ]);
    expect(sleeps).toHaveLength(1);
  });

  it('throws AccountStatusNotRecorded when items stay unprocessed after the last attempt', async () => {
    dynamo.on(BatchWriteItem).callsFake((input: { RequestItems: Record<string, WriteRequest[]> }) => ({
      UnprocessedItems: { status: (input.RequestItems.status ?? []).slice(0, 1) },
    }));
    await expect(log(3).record([rotation(1), rotation(2)])).rejects.toMatchObject({
      name: 'AccountStatusNotRecorded',
      message: '1 of 2 account status records not written to status (at most 3 attempts each)',
    });
    expect(written()).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('writes one item for two entries with the same key (the later), and nothing for a bad entry', async () => {
    dynamo.on(BatchWriteItem).resolves({} as never);
    await log().record([rotation(1, 'aa'), rotation(1, 'bb')]);
    expect(written()[0]?.map((r) => r.PutRequest?.Item?.serial?.S)).toEqual(['bb']);

    dynamo.resetHistory();
    await expect(
      log().record([rotation(2), { ...rotation(3), accountId: 'not-an-account' }]),
    ).rejects.toMatchObject({
      name: 'InvalidAccountStatus',
      message: expect.stringContaining('status entry 1'),
    });
    expect(written()).toHaveLength(0);
  });

  it('scans every page of the table, reporting progress, and parses the items back', async () => {
    const item = (entry: AccountStatusEntry, key: string) => ({
      ...Object.fromEntries(
        Object.entries(entry).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: v }]),
      ),
      item: { S: key },
    });
    dynamo
      .on(Scan)
      .resolvesOnce({
        Items: [item(rotation(1), 'rotation#prod/payments')],
        LastEvaluatedKey: { accountId: { S: account(1) }, item: { S: 'rotation#prod/payments' } },
      } as never)
      .resolvesOnce({
        Items: [item(reconcile, 'reconcile#prod/payments'), item(accountFailure, 'failure')],
      } as never);
    const progress: number[] = [];
    const entries = await log().list({ onProgress: (n) => progress.push(n) });
    expect(entries).toEqual([rotation(1), reconcile, accountFailure]);
    expect(progress).toEqual([1, 3]);
    const scans = dynamo.commandCalls(Scan).map((c) => c.args[0].input as Record<string, unknown>);
    expect(scans).toEqual([
      { TableName: 'status', ExclusiveStartKey: undefined },
      {
        TableName: 'status',
        ExclusiveStartKey: { accountId: { S: account(1) }, item: { S: 'rotation#prod/payments' } },
      },
    ]);
  });

  it('queries one partition for one account, and refuses an item that is not a status record', async () => {
    dynamo.on(Query).resolves({
      Items: [{ accountId: { S: account(1) }, item: { S: 'odd' }, kind: { S: 'odd' } }],
    } as never);
    await expect(log().list({ accountId: account(1) })).rejects.toMatchObject({
      name: 'InvalidAccountStatus',
      message: expect.stringContaining('item odd of status'),
    });
    expect(dynamo.commandCalls(Query)[0]?.args[0].input).toMatchObject({
      KeyConditionExpression: 'accountId = :account',
      ExpressionAttributeValues: { ':account': { S: account(1) } },
    });
    expect(dynamo.commandCalls(Scan)).toHaveLength(0);
  });
});

describe('FileAccountStatusLog', () => {
  it('lists nothing before anything is recorded', async () => {
    expect(await new FileAccountStatusLog(dir).list()).toEqual([]);
  });

  it('keeps one file per record, replaced by a later write, and lists all or one account', async () => {
    const log = new FileAccountStatusLog(dir);
    await log.record([rotation(1, 'aa'), reconcile, accountFailure, rotation(2)]);
    await log.record([rotation(1, 'bb')]);
    expect(readdirSync(join(dir, 'account-status', account(1))).sort()).toEqual([
      'failure.json',
      'reconcile%23prod%2Fpayments.json',
      'rotation%23prod%2Fpayments.json',
    ]);
    const all = await log.list();
    expect(all).toHaveLength(4);
    expect(all).toContainEqual(rotation(1, 'bb'));
    expect(await log.list({ accountId: account(2) })).toEqual([rotation(2)]);
    expect(await log.list({ accountId: '../..' })).toEqual([]);
  });

  it('writes nothing for a bad entry', async () => {
    const log = new FileAccountStatusLog(dir);
    await expect(log.record([rotation(1), { ...reconcile, secretCount: -1 }])).rejects.toMatchObject({
      name: 'InvalidAccountStatus',
    });
    expect(await log.list()).toEqual([]);
  });

  it('removes a write a killed run left unfinished at its next write to the account, and lists only records', async () => {
    const log = new FileAccountStatusLog(dir);
    await log.record([rotation(1)]);
    const accountDir = join(dir, 'account-status', account(1));
    // Under this process's pid but not being written by it: the pid of a killed predecessor, come back.
    writeFileSync(
      join(accountDir, `.sync%23prod%2Fpayments.json.${process.pid}.0123456789ab.tmp`),
      '{"kind":',
    );
    expect(await log.list()).toEqual([rotation(1)]);
    await new FileAccountStatusLog(dir).record([rotation(1, 'bb')]);
    expect(readdirSync(accountDir)).toEqual(['rotation%23prod%2Fpayments.json']);
  });

  it('leaves a corrupt record out with a warning naming the file, and lists the others', async () => {
    const warnings: string[] = [];
    const log = new FileAccountStatusLog(dir, { onWarning: (m) => warnings.push(m) });
    await log.record([rotation(1), reconcile, rotation(2)]);
    const cut = join(dir, 'account-status', account(1), 'rotation%23prod%2Fpayments.json');
    const wrong = join(dir, 'account-status', account(2), 'rotation%23prod%2Fpayments.json');
    writeFileSync(cut, '{"kind":');
    writeFileSync(wrong, JSON.stringify({ ...rotation(2), serial: 7 }));

    expect(await log.list()).toEqual([reconcile]);
    const whatToDo = ". The account's next run writes it again; delete the file to silence this warning";
    expect(warnings).toEqual([
      `left out of the account status: ${cut} is not valid JSON: it stops after 8 bytes (cut short, or edited?)${whatToDo}`,
      expect.stringMatching(
        new RegExp(`^left out of the account status: ${wrong} is not an account status record: serial: `),
      ),
    ]);
    expect(await log.list({ accountId: account(2) })).toEqual([]);
    expect(warnings.slice(2)).toEqual([warnings[1]]);
    // The next write of that record makes it whole again.
    await log.record([rotation(1)]);
    expect(await log.list({ accountId: account(1) })).toContainEqual(rotation(1));
  });
});
