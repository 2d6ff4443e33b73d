import {
  type AttributeValue,
  BatchWriteItemCommand,
  QueryCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type AccountStatusEntry,
  AccountStatusNotRecorded,
  parseStatusEntry,
  statusWrites,
} from '../../domain/account-status';
import type { AccountStatusListing, AccountStatusLog } from './account-status';
import type { DynamoDbApi } from '../../aws/clients';
import { pages } from '../../aws/pages';
import { batchRounds, type RetryPolicy, retrying } from '../../domain/backoff';

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
    this.rounds = batchRounds(options, 1000);
  }

  async record(entries: AccountStatusEntry[]): Promise<void> {
    const requests: WriteRequest[] = statusWrites(entries).map(({ item, entry }) => ({
      // Each field its own attribute (strings S, counts N); a field left out stays out.
      PutRequest: { Item: marshall({ ...entry, item }, { removeUndefinedValues: true }) },
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
    const read = (ExclusiveStartKey: Record<string, AttributeValue> | undefined) =>
      this.client.send(
        // One account is one partition: a Query reads only it; the whole table needs a Scan.
        accountId === undefined
          ? new ScanCommand({ TableName: this.tableName, ExclusiveStartKey })
          : new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'accountId = :account',
              ExpressionAttributeValues: marshall({ ':account': accountId }),
              ExclusiveStartKey,
            }),
      );
    for await (const page of pages(read, (page) => page.LastEvaluatedKey)) {
      for (const item of page.Items ?? []) entries.push(fromItem(item, this.tableName));
      onProgress?.(entries.length);
    }
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

const fromItem = (item: Record<string, AttributeValue>, tableName: string): AccountStatusEntry => {
  const { item: key, ...fields } = unmarshall(item);
  return parseStatusEntry(fields, `item ${typeof key === 'string' ? key : '?'} of ${tableName}`);
};
