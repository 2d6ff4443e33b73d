/**
 * EventBridge PutEvents: LocalEventBus and moto answer the same batches the same way, and the audit sink
 * (EventBridgeAuditSink) publishes over both. What arrived is read back from the stand-in's audit log and, on
 * moto, from an archive on the bus (moto's archive counts every event its bus accepted; it is slow, a third of a
 * second per event, hence the small batches).
 */
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DescribeArchiveCommand,
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { EventBridgeApi } from '../../functions/shared/aws/clients';
import { EventBridgeAuditSink } from '../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import { SVID_DETAIL_TYPES } from '../../functions/shared/domain/audit';
import { skippedSvidEvent } from '../support/audit-events';
import { LocalEventBus, readAuditLog } from '../../local-stack/stand-ins/local-event-bus';
import { awsOrMotoGap, type Backend, backendPair } from './backends';

const BUS = 'trust-bridge-contract-audit';
const ARCHIVE = 'contract-audit-archive';

const backends = backendPair<EventBridgeApi, EventBridgeClient>(
  { name: 'LocalEventBus', make: ({ dataDir }) => new LocalEventBus(dataDir) },
  { make: (config) => new EventBridgeClient(config) },
);

const entry = (n: number, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'trust-bridge.svid',
  DetailType: 'SVID Issued',
  Detail: JSON.stringify({ n }),
  EventBusName: BUS,
  ...extra,
});

const skipped = (n: number) => skippedSvidEvent(n);

describe.each(backends)('EventBridge contract: $name', ({ open }) => {
  let backend: Backend<EventBridgeApi>;
  let bus: EventBridgeApi;
  beforeEach(async () => {
    backend = await open();
    bus = backend.client;
    if (backend.kind === 'moto') {
      // A custom bus exists on AWS only once created (infra/audit-bus.yml); the stand-in takes any name.
      const admin = bus as EventBridgeClient;
      const created = await admin.send(new CreateEventBusCommand({ Name: BUS }));
      await admin.send(
        new CreateArchiveCommand({ ArchiveName: ARCHIVE, EventSourceArn: created.EventBusArn }),
      );
    }
  });
  afterEach(() => backend.close());

  const put = (Entries: PutEventsRequestEntry[]) => bus.send(new PutEventsCommand({ Entries }));
  /** How many events the bus accepted so far. */
  const delivered = async (): Promise<number> => {
    if (backend.kind === 'stand-in') return (await readAuditLog(backend.dataDir as string, BUS)).length;
    const archive = await (bus as EventBridgeClient).send(
      new DescribeArchiveCommand({ ArchiveName: ARCHIVE }),
    );
    return archive.EventCount ?? 0;
  };

  test('a batch of 10 entries on a custom bus: each gets its own EventId, all arrive', async () => {
    const out = await put(Array.from({ length: 10 }, (_, n) => entry(n)));
    expect(out.FailedEntryCount).toBe(0);
    const ids = (out.Entries ?? []).map((e) => e.EventId);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(await delivered()).toBe(10);
    if (backend.kind === 'stand-in') {
      const log = await readAuditLog(backend.dataDir as string, BUS);
      expect(log.map((e) => e.id)).toEqual(ids);
      expect(log.map((e) => e.detail)).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
    }
  });

  test('the bus may be named by its ARN', async () => {
    const arn = `arn:aws:events:${backend.region}:${backend.accountId}:event-bus/${BUS}`;
    const out = await put([entry(1, { EventBusName: arn })]);
    expect(out.FailedEntryCount).toBe(0);
    expect(await delivered()).toBe(1);
  });

  test('11 entries are refused as a whole (ValidationException), none arrives', async () => {
    await expect(put(Array.from({ length: 11 }, (_, n) => entry(n)))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(await delivered()).toBe(0);
  });

  test('bad entries fail one by one, in place, and the others arrive', async () => {
    const out = await put([
      entry(0),
      entry(1, { Source: undefined }),
      entry(2, { Detail: '{"not": json' }),
      entry(3, { DetailType: undefined }),
      entry(4),
    ]);
    expect(out.FailedEntryCount).toBe(3);
    const results = out.Entries ?? [];
    expect(results).toHaveLength(5);
    expect(results.map((r) => r.ErrorCode)).toEqual([
      undefined,
      'InvalidArgument',
      'MalformedDetail',
      'InvalidArgument',
      undefined,
    ]);
    expect(results[0]?.EventId).toBeDefined();
    expect(results[4]?.EventId).toBeDefined();
    expect(results[1]?.EventId).toBeUndefined();
    expect(await delivered()).toBe(2);
  });

  test('a bus that does not exist', async () => {
    const attempt = put([entry(1, { EventBusName: 'no-such-bus' })]);
    if (awsOrMotoGap(backend.kind, 'events.put-to-missing-bus', { aws: true, moto: false })) {
      // AWS accepts the entry (an EventId, FailedEntryCount 0) and drops the event.
      const out = await attempt;
      expect(out.FailedEntryCount).toBe(0);
      expect(out.Entries?.[0]?.EventId).toBeDefined();
    } else {
      await expect(attempt).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
    expect(await delivered()).toBe(0);
  });

  describe('EventBridgeAuditSink', () => {
    test('publishes 12 events in batches of at most 10, every one delivered', async () => {
      const calls: number[] = [];
      const counting: EventBridgeApi = {
        send: (command) => {
          calls.push(command.input.Entries?.length ?? 0);
          return bus.send(command);
        },
      };
      const sink = new EventBridgeAuditSink(counting, { busName: BUS, sleep: async () => undefined });
      await sink.publish(Array.from({ length: 12 }, (_, n) => skipped(n)));
      expect(calls.sort((a, b) => a - b)).toEqual([2, 10]);
      expect(await delivered()).toBe(12);
      if (backend.kind === 'stand-in') {
        const log = await readAuditLog(backend.dataDir as string, BUS);
        expect(new Set(log.map((e) => (e.detail as { eventId: string }).eventId)).size).toBe(12);
        expect(
          log.every(
            (e) => e.source === 'trust-bridge.svid' && e['detail-type'] === SVID_DETAIL_TYPES.skipped,
          ),
        ).toBe(true);
      }
    });

    test('on a bus that does not exist', async () => {
      const sink = new EventBridgeAuditSink(bus, { busName: 'no-such-bus', sleep: async () => undefined });
      const published = sink.publish([skipped(1)]);
      if (awsOrMotoGap(backend.kind, 'events.put-to-missing-bus', { aws: true, moto: false })) {
        // Nothing tells the sink: AWS drops the event after accepting it.
        await expect(published).resolves.toBeUndefined();
      } else {
        await expect(published).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      }
    });
  });
});
