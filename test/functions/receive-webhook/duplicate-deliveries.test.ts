import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaContext } from '../../../engine/task-binding';
import { createHandler } from '../../../functions/receive-webhook/receive-webhook';
import type { DynamoDbApi } from '../../../functions/shared/aws/clients';
import { DynamoDbDeliveryLog } from '../../../functions/shared/ports/delivery-log/dynamodb-delivery-log';
import { EventBridgeSecretChanges } from '../../../functions/shared/ports/secret-changes/eventbridge-secret-changes';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../../functions/shared/domain/webhook';
import { LocalEventBus } from '../../../local-stack/stand-ins/local-event-bus';

/**
 * The receiver as deployed: its delivery log in DynamoDB (a conditional put per delivery id), its changes
 * on an EventBridge bus whose rule starts one sync execution per matching event (serverless.yml's rule,
 * InputPath $.detail). Here the table is an in-memory DynamoDB answering the two calls the log makes with
 * DynamoDB's semantics, and the rule's target records what StartExecution would have been given.
 */
class InMemoryDeliveryTable implements DynamoDbApi {
  readonly items = new Map<string, unknown>();
  failNextPut = false;

  async send(command: unknown): Promise<never> {
    if (command instanceof PutItemCommand) {
      if (this.failNextPut) {
        this.failNextPut = false;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      const id = command.input.Item?.deliveryId?.S ?? '';
      if (command.input.ConditionExpression === 'attribute_not_exists(deliveryId)' && this.items.has(id)) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      }
      this.items.set(id, command.input.Item);
      return {} as never;
    }
    if (command instanceof DeleteItemCommand) {
      this.items.delete(command.input.Key?.deliveryId?.S ?? '');
      return {} as never;
    }
    throw new Error(`the delivery table answers PutItem and DeleteItem only, not ${String(command)}`);
  }
}

const KEY = new Uint8Array(32).fill(0x5a);
const PATTERN = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../events/patterns/keywhiz-secret-changed.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, string[]>;

let dir: string;
let table: InMemoryDeliveryTable;
let bus: LocalEventBus;
let started: unknown[];
let now: Date;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-duplicates-'));
  table = new InMemoryDeliveryTable();
  bus = new LocalEventBus(dir);
  started = [];
  bus.addRule({ pattern: PATTERN, target: (event) => started.push(event.detail) });
  now = new Date();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const handler = () =>
  createHandler({
    logger: new Logger({ serviceName: 'receive-webhook', logLevel: 'SILENT' }),
    webhookKeys: { keys: async () => [KEY] },
    deliveries: new DynamoDbDeliveryLog(table, { tableName: 'deliveries', now: () => now }),
    secretChanges: new EventBridgeSecretChanges(bus, { busName: 'trust-bridge-audit' }),
    now: () => now,
  });

/** A function URL event carrying `body`, signed at `signedAt` (whole seconds). */
const request = (body: string, signedAt: number): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    rawPath: '/',
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER.toLowerCase()]: String(signedAt),
      [SIGNATURE_HEADER.toLowerCase()]: signWebhook(KEY, signedAt, body),
    },
    requestContext: { http: { method: 'POST' } },
    body,
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

const deliver = async (event: APIGatewayProxyEventV2) => {
  const result = (await handler()(
    event,
    lambdaContext('arn:aws:lambda:us-east-1:123456789012:function:receive-webhook', 10_000),
  )) as { statusCode: number; body: string };
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
};

const seconds = () => Math.floor(now.getTime() / 1000);
const change = (deliveryId: string) =>
  JSON.stringify({ deliveryId, event: 'secret.updated', secret: 'db-password', services: ['payments'] });

describe('on AWS, replayed and duplicate deliveries start no execution', () => {
  it('the same delivery sent ten times at once starts one execution; the other nine are answered duplicate', async () => {
    const event = request(change('kw-burst-1'), seconds());
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(event)));
    expect(answers.map((a) => a.json.status).sort()).toEqual([
      'accepted',
      ...Array<string>(9).fill('duplicate'),
    ]);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(started).toEqual([JSON.parse(change('kw-burst-1'))]);
  });

  it('a replay, as captured or signed anew, starts nothing; captured bytes past the 5-minute window are refused', async () => {
    const captured = request(change('kw-replay-1'), seconds());
    expect((await deliver(captured)).json.status).toBe('accepted');
    expect((await deliver(captured)).json.status).toBe('duplicate');
    now = new Date(now.getTime() + 60_000);
    expect((await deliver(request(change('kw-replay-1'), seconds()))).json.status).toBe('duplicate');
    // A day later the id is still remembered (7 days), and the old signature is stale.
    now = new Date(now.getTime() + 86_400_000);
    expect(await deliver(captured)).toMatchObject({ status: 401, json: { error: 'stale-timestamp' } });
    expect((await deliver(request(change('kw-replay-1'), seconds()))).json.status).toBe('duplicate');
    expect(started).toHaveLength(1);
  });

  it('a delivery that could not be put on the bus is forgotten, so its retry starts exactly one execution', async () => {
    bus.failEntries(1);
    const event = request(change('kw-retry-1'), seconds());
    expect(await deliver(event)).toMatchObject({ status: 503, json: { error: 'unavailable' } });
    expect(started).toEqual([]);
    expect((await deliver(event)).json.status).toBe('accepted');
    expect((await deliver(event)).json.status).toBe('duplicate');
    expect(started).toHaveLength(1);
  });

  it('a delivery the table could not record starts nothing and is answered 503 for the sender to retry', async () => {
    table.failNextPut = true;
    const event = request(change('kw-throttled-1'), seconds());
    expect(await deliver(event)).toMatchObject({ status: 503, json: { error: 'unavailable' } });
    expect(started).toEqual([]);
    expect((await deliver(event)).json.status).toBe('accepted');
    expect(started).toHaveLength(1);
  });
});
