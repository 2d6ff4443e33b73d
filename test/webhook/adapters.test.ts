import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbDeliveryLog } from '../../functions/shared/ports/delivery-log/dynamodb-delivery-log';
import { EventBridgeSecretChanges } from '../../functions/shared/ports/secret-changes/eventbridge-secret-changes';
import { SecretsManagerWebhookKeys } from '../../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import { localConfig } from '../../local-stack/local-config';
import {
  SECRET_CHANGE_SOURCE,
  SECRET_CHANGED_DETAIL_TYPE,
  type SecretChange,
  SecretChangeNotAnnounced,
} from '../../functions/shared/domain/webhook';
import { FileDeliveryLog } from '../../local-stack/stand-ins/file-delivery-log';
import { LocalEventBus, readAuditLog } from '../../local-stack/stand-ins/local-event-bus';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { ensureLocalWebhookKey, readLocalWebhookKey } from '../../local-stack/stand-ins/local-webhook-key';

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so the client and command classes are cast for the type checker only.
const dynamo = mockClient(DynamoDBClient as never);
const eventBridge = mockClient(EventBridgeClient as never);
const secretsManager = mockClient(SecretsManagerClient as never);
const PutItem = PutItemCommand as never;
const DeleteItem = DeleteItemCommand as never;
const PutEvents = PutEventsCommand as never;
const GetSecretValue = GetSecretValueCommand as never;

const change: SecretChange = {
  deliveryId: 'kw-0001',
  event: 'secret.updated',
  secret: 'db-password',
  services: ['payments'],
};
const hexKey = (byte: number) => Buffer.alloc(32, byte).toString('hex');

let dir: string;
beforeEach(() => {
  dynamo.reset();
  eventBridge.reset();
  secretsManager.reset();
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

describe('EventBridgeSecretChanges', () => {
  const announcer = () =>
    new EventBridgeSecretChanges(new EventBridgeClient({ region: 'us-east-1' }), {
      busName: 'trust-bridge-audit',
    });

  it('puts one Keywhiz Secret Changed entry whose detail is the change', async () => {
    eventBridge.on(PutEvents).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] } as never);
    await announcer().announce(change);
    const calls = eventBridge.commandCalls(PutEvents);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: 'trust-bridge-audit',
          Source: 'trust-bridge.webhook',
          DetailType: 'Keywhiz Secret Changed',
          Detail: JSON.stringify(change),
        },
      ],
    });
  });

  it('throws SecretChangeNotAnnounced when the entry failed', async () => {
    eventBridge.on(PutEvents).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    } as never);
    const announced = announcer().announce(change);
    await expect(announced).rejects.toThrow(SecretChangeNotAnnounced);
    await expect(announced).rejects.toThrow(/db-password \(delivery kw-0001\): InternalFailure try again/);
  });

  it('fails the same way through the local bus when the entry is refused', async () => {
    const bus = new LocalEventBus(dir);
    bus.failEntries(1);
    await expect(
      new EventBridgeSecretChanges(bus, { busName: 'trust-bridge-audit' }).announce(change),
    ).rejects.toThrow(SecretChangeNotAnnounced);
    expect(await readAuditLog(dir, 'trust-bridge-audit')).toEqual([]);
  });
});

describe('SecretsManagerWebhookKeys', () => {
  let clock: number;
  const keys = () =>
    new SecretsManagerWebhookKeys(new SecretsManagerClient({ region: 'us-east-1' }), {
      secretName: 'trust-bridge/webhook-signing-key',
      now: () => clock,
    });
  const stage = (call: number) =>
    (secretsManager.commandCalls(GetSecretValue)[call]?.args[0].input as { VersionStage?: string })
      .VersionStage;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('reads AWSCURRENT first and AWSPREVIOUS after it', async () => {
    secretsManager
      .on(GetSecretValue, { VersionStage: 'AWSCURRENT' } as never)
      .resolves({ SecretString: hexKey(1) } as never)
      .on(GetSecretValue, { VersionStage: 'AWSPREVIOUS' } as never)
      .resolves({ SecretString: `${hexKey(2)}\n` } as never);
    expect(await keys().keys()).toEqual([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
    expect([stage(0), stage(1)].sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('holds only the current key when the secret was never rotated', async () => {
    secretsManager
      .on(GetSecretValue, { VersionStage: 'AWSCURRENT' } as never)
      .resolves({ SecretString: hexKey(1) } as never)
      .on(GetSecretValue, { VersionStage: 'AWSPREVIOUS' } as never)
      .rejects(new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} }) as never);
    expect(await keys().keys()).toEqual([new Uint8Array(32).fill(1)]);
  });

  it('reuses the keys for 5 minutes, then reads again', async () => {
    secretsManager.on(GetSecretValue).resolves({ SecretString: hexKey(1) } as never);
    const source = keys();
    await source.keys();
    clock += 299_999;
    await source.keys();
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(2);
    clock += 1;
    await source.keys();
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(4);
  });

  it('does not keep a failed read', async () => {
    secretsManager
      .on(GetSecretValue)
      .rejectsOnce(new Error('throttled') as never)
      .resolves({ SecretString: hexKey(1) } as never);
    const source = keys();
    await expect(source.keys()).rejects.toThrow('throttled');
    expect(await source.keys()).toEqual([new Uint8Array(32).fill(1), new Uint8Array(32).fill(1)]);
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(4);
  });

  it('refuses a value that is not a hex key, without repeating it', async () => {
    secretsManager.on(GetSecretValue).resolves({ SecretString: 'correct horse battery staple' } as never);
    const failure = keys().keys();
    await expect(failure).rejects.toThrow(
      /trust-bridge\/webhook-signing-key \(AWSCURRENT\): a webhook signing key must be/,
    );
    await expect(failure).rejects.not.toThrow(/horse/);
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

describe('local webhook key', () => {
  const config = localConfig({});

  it('is created once as 32 random bytes of hex, and kept afterwards', async () => {
    const store = new LocalSecretsManager({ dataDir: dir, accountId: config.CENTRAL_ACCOUNT_ID });
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    const first = await readLocalWebhookKey(dir, config);
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    expect(first).toHaveLength(32);
    expect(await readLocalWebhookKey(dir, config)).toEqual(first);
  });

  it('is read by notify as the current version after a rotation', async () => {
    const store = new LocalSecretsManager({ dataDir: dir, accountId: config.CENTRAL_ACCOUNT_ID });
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    await store.send(
      new PutSecretValueCommand({ SecretId: config.WEBHOOK_KEY_SECRET_NAME, SecretString: hexKey(5) }),
    );
    expect(await readLocalWebhookKey(dir, config)).toEqual(new Uint8Array(32).fill(5));
    const both = await new SecretsManagerWebhookKeys(store, {
      secretName: config.WEBHOOK_KEY_SECRET_NAME,
    }).keys();
    expect(both).toHaveLength(2);
  });
});

describe('events/ for Keywhiz Secret Changed', () => {
  const readJson = (path: string): unknown =>
    JSON.parse(readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(readJson('schemas/keywhiz-secret-changed.json') as object);
  const pattern = readJson('patterns/keywhiz-secret-changed.json') as Record<string, string[]>;
  /** EventBridge matching for our pattern: each top-level field's value is one of the listed ones. */
  const matches = (event: Record<string, unknown>) =>
    Object.entries(pattern).every(([field, accepted]) => accepted.includes(String(event[field])));

  it('has a sample valid against the schema and matched by the rule pattern', () => {
    const sample = readJson('samples/keywhiz-secret-changed.json') as Record<string, unknown>;
    expect(validate(sample)).toBe(true);
    expect(matches(sample)).toBe(true);
  });

  it('describes the event the announcer puts on the bus, and the rule matches it', async () => {
    const bus = new LocalEventBus(dir);
    const announcer = new EventBridgeSecretChanges(bus, { busName: 'trust-bridge-audit' });
    const { services: _all, ...toEveryAccount } = change;
    await announcer.announce(change);
    await announcer.announce({ ...toEveryAccount, deliveryId: 'kw-0002', event: 'secret.deleted' });
    const events = await readAuditLog(dir, 'trust-bridge-audit');
    expect(events).toHaveLength(2);
    for (const { bus: _bus, ...entry } of events) {
      const event = { version: '0', account: '000000000000', region: 'us-east-1', resources: [], ...entry };
      expect(validate(event) ? [] : validate.errors).toEqual([]);
      expect(matches(event)).toBe(true);
      expect(event).toMatchObject({
        source: SECRET_CHANGE_SOURCE,
        'detail-type': SECRET_CHANGED_DETAIL_TYPE,
      });
    }
    expect(events[0]?.detail).toEqual(change);
  });

  it('refuses a detail the receiver would refuse', () => {
    const sample = readJson('samples/keywhiz-secret-changed.json') as { detail: Record<string, unknown> };
    for (const detail of [
      { ...sample.detail, event: 'secret.rotated' },
      { ...sample.detail, value: 'hunter2' },
      { ...sample.detail, services: [] },
      { ...sample.detail, secret: 'x'.repeat(196) },
    ]) {
      expect(validate({ ...sample, detail })).toBe(false);
    }
  });
});
