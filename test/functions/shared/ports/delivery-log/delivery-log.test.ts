import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbDeliveryLog } from '../../../../../functions/shared/ports/delivery-log/dynamodb-delivery-log';
import { FileDeliveryLog } from '../../../../../local-stack/stand-ins/file-delivery-log';

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so the client and command classes are cast for the type checker only.
const dynamo = mockClient(DynamoDBClient as never);
const PutItem = PutItemCommand as never;
const DeleteItem = DeleteItemCommand as never;

let dir: string;
beforeEach(() => {
  dynamo.reset();
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-webhook-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DynamoDbDeliveryLog', () => {
  const log = () =>
    new DynamoDbDeliveryLog(new DynamoDBClient({ region: 'us-east-1' }), {
      tableName: 'deliveries',
      now: () => new Date('2025-03-01T00:00:00Z'),
    });

  it('claims with a conditional put that expires after 7 days', async () => {
    dynamo.on(PutItem).resolves({} as never);
    expect(await log().claim('kw-0001')).toBe(true);
    const input = dynamo.commandCalls(PutItem)[0]?.args[0].input as Record<string, unknown>;
    const now = Date.parse('2025-03-01T00:00:00Z') / 1000;
    expect(input).toEqual({
      TableName: 'deliveries',
      Item: {
        deliveryId: { S: 'kw-0001' },
        claimedAt: { N: String(now) },
        expiresAt: { N: String(now + 7 * 86_400) },
      },
      ConditionExpression: 'attribute_not_exists(deliveryId)',
    });
  });

  it('answers false when the condition fails (the id was claimed before)', async () => {
    dynamo.on(PutItem).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      }) as never,
    );
    expect(await log().claim('kw-0001')).toBe(false);
  });

  it('lets any other failure through', async () => {
    dynamo
      .on(PutItem)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }) as never);
    await expect(log().claim('kw-0001')).rejects.toThrow('slow down');
  });

  it('releases by deleting the item', async () => {
    dynamo.on(DeleteItem).resolves({} as never);
    await log().release('kw-0001');
    expect(dynamo.commandCalls(DeleteItem)[0]?.args[0].input).toEqual({
      TableName: 'deliveries',
      Key: { deliveryId: { S: 'kw-0001' } },
    });
  });
});

describe('FileDeliveryLog', () => {
  it('claims an id once, under a file named by its SHA-256', async () => {
    const log = new FileDeliveryLog(dir);
    expect(await log.claim('kw:0001/../x')).toBe(true);
    expect(await log.claim('kw:0001/../x')).toBe(false);
    expect(readdirSync(join(dir, 'webhook', 'deliveries'))).toEqual([
      createHash('sha256').update('kw:0001/../x').digest('hex'),
    ]);
  });

  it('gives exactly one of many concurrent claims, across instances', async () => {
    const logs = Array.from({ length: 20 }, () => new FileDeliveryLog(dir));
    const results = await Promise.all(logs.map((log) => log.claim('kw-race')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lets a released id be claimed again, and releasing an unknown id is fine', async () => {
    const log = new FileDeliveryLog(dir);
    await log.claim('kw-0002');
    await log.release('kw-0002');
    expect(await log.claim('kw-0002')).toBe(true);
    await expect(log.release('never-claimed')).resolves.toBeUndefined();
  });
});
