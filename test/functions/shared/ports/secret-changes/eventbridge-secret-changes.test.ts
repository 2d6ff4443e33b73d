import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeSecretChanges } from '../../../../../functions/shared/ports/secret-changes/eventbridge-secret-changes';
import {
  SECRET_CHANGE_SOURCE,
  SECRET_CHANGED_DETAIL_TYPE,
  type SecretChange,
  SecretChangeNotAnnounced,
} from '../../../../../functions/shared/domain/webhook';
import { LocalEventBus, readAuditLog } from '../../../../../local-stack/stand-ins/local-event-bus';

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so the client and command classes are cast for the type checker only.
const eventBridge = mockClient(EventBridgeClient as never);
const PutEvents = PutEventsCommand as never;

const change: SecretChange = {
  deliveryId: 'kw-0001',
  event: 'secret.updated',
  secret: 'db-password',
  services: ['payments'],
};

let dir: string;
beforeEach(() => {
  eventBridge.reset();
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-webhook-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

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

describe('events/ for Keywhiz Secret Changed', () => {
  const readJson = (path: string): unknown =>
    JSON.parse(readFileSync(new URL(`../../../../../events/${path}`, import.meta.url), 'utf8'));
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
