import {
  type AttributeValue,
  BatchWriteItemCommand,
  QueryCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  type AccountStatusEntry,
  AccountStatusNotRecorded,
  parseStatusEntry,
  statusWrites,
} from '../../domain/account-status';
import type { AccountStatusListing, AccountStatusLog } from './account-status';
import type { DynamoDbApi } from '../delivery-log/dynamodb-delivery-log';
import { type RetryPolicy, retrying } from '../../domain/backoff';

export interface DynamoDbAccountStatusLogOptions {
  /** Partition key `accountId` (S), sort key `item` (S): infra/account-status.yml. */
  tableName: string;
  /** BatchWriteItem rounds per batch for the items DynamoDB left unprocessed, the first included (default 5). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** BatchWriteItem takes at most this many requests per call. */
export const BATCH_WRITE_MAX_ITEMS = 25;

/**
 * Account status records in a DynamoDB table, one item per account and item key. Writes are whole-item puts:
 * each kind of record has its own key, so no write needs to read first.
 */
export class DynamoDbAccountStatusLog implements AccountStatusLog {
  private readonly tableName: string;
  private readonly rounds: RetryPolicy;

  constructor(
    private readonly client: DynamoDbApi,
    options: DynamoDbAccountStatusLogOptions,
  ) {
    this.tableName = options.tableName;
    this.rounds = {
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      baseMs: 100,
      capMs: 1000,
      ...(options.sleep && { sleep: options.sleep }),
    };
  }

  async record(entries: AccountStatusEntry[]): Promise<void> {
    const requests: WriteRequest[] = statusWrites(entries).map(({ item, entry }) => ({
      PutRequest: { Item: { ...toItem(entry), item: { S: item } } },
    }));
    const unwritten: number[] = [];
    for (let start = 0; start < requests.length; start += BATCH_WRITE_MAX_ITEMS) {
      unwritten.push(await this.writeBatch(requests.slice(start, start + BATCH_WRITE_MAX_ITEMS)));
    }
    const left = unwritten.reduce((a, b) => a + b, 0);
    if (left > 0) {
      throw new AccountStatusNotRecorded(
        `${left} of ${requests.length} account status records not written to ${this.tableName} ` +
          `(at most ${this.rounds.maxAttempts} attempts each)`,
      );
    }
  }

  async list({ accountId, onProgress }: AccountStatusListing = {}): Promise<AccountStatusEntry[]> {
    const entries: AccountStatusEntry[] = [];
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      // One account is one partition: a Query reads only it; the whole table needs a Scan.
      const page = await this.client.send(
        accountId === undefined
          ? new ScanCommand({ TableName: this.tableName, ExclusiveStartKey })
          : new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'accountId = :account',
              ExpressionAttributeValues: { ':account': { S: accountId } },
              ExclusiveStartKey,
            }),
      );
      for (const item of page.Items ?? []) entries.push(fromItem(item, this.tableName));
      onProgress?.(entries.length);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return entries;
  }

  /** Writes one batch, retrying what DynamoDB left unprocessed; returns how many stayed unwritten. */
  private async writeBatch(batch: WriteRequest[]): Promise<number> {
    let pending = batch;
    const left = await retrying(this.rounds, async () => {
      const out = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
      );
      pending = out.UnprocessedItems?.[this.tableName] ?? [];
      return { result: pending, again: pending.length > 0 };
    });
    return left.length;
  }
}

/** Each field as its own attribute: strings as S, counts as N. */
const toItem = (entry: AccountStatusEntry): Record<string, AttributeValue> =>
  Object.fromEntries(
    Object.entries(entry).map(([key, value]): [string, AttributeValue] =>
      typeof value === 'number' ? [key, { N: String(value) }] : [key, { S: String(value) }],
    ),
  );

const fromItem = (item: Record<string, AttributeValue>, tableName: string): AccountStatusEntry => {
  const { item: key, ...attributes } = item;
  const fields = Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      value.N !== undefined ? Number(value.N) : value.S,
    ]),
  );
  return parseStatusEntry(fields, `item ${key?.S ?? '?'} of ${tableName}`);
};
