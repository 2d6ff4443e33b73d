import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDbApi } from '../../aws/clients';
import type { DeliveryLog } from './delivery-log';

export interface DynamoDbDeliveryLogOptions {
  /** Partition key `deliveryId` (S); time to live on `expiresAt` (N, Unix seconds). */
  tableName: string;
  /** How long a delivery id is remembered (default 7 days), far beyond the 5-minute timestamp window. */
  retentionDays?: number;
  now?: () => Date;
}

const DAY_SECONDS = 86_400;

/** Delivery ids in a DynamoDB table: a conditional put claims an id exactly once, even between concurrent calls. */
export class DynamoDbDeliveryLog implements DeliveryLog {
  private readonly tableName: string;
  private readonly retentionSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDbApi,
    options: DynamoDbDeliveryLogOptions,
  ) {
    this.tableName = options.tableName;
    this.retentionSeconds = (options.retentionDays ?? 7) * DAY_SECONDS;
    this.now = options.now ?? (() => new Date());
  }

  async claim(deliveryId: string): Promise<boolean> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({
            deliveryId,
            claimedAt: nowSeconds,
            expiresAt: nowSeconds + this.retentionSeconds,
          }),
          ConditionExpression: 'attribute_not_exists(deliveryId)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async release(deliveryId: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: marshall({ deliveryId }) }),
    );
  }
}
