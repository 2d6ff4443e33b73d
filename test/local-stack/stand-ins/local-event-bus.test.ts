import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ListEventBusesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { validateAuditEvent } from '../../../events/schemas';
import { EventBridgeAuditSink } from '../../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import { skippedSvidEvent } from '../../support/audit-events';
import { LocalEventBus, readAuditLog } from '../../../local-stack/stand-ins/local-event-bus';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-event-bus-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const entry = (n: number, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'trust-bridge.svid',
  DetailType: 'SVID Issued',
  Detail: JSON.stringify({ n }),
  EventBusName: 'audit',
  ...extra,
});
const put = (bus: LocalEventBus, entries: PutEventsRequestEntry[]) =>
  bus.send(new PutEventsCommand({ Entries: entries }));

const skipped = (n: number) => skippedSvidEvent(n, '2025-03-02T00:00:00.000Z');

describe('LocalEventBus', () => {
  it('appends each accepted entry as one JSON line in <dataDir>/eventbridge/<bus>.jsonl', async () => {
    const bus = new LocalEventBus(dataDir, { now: () => new Date('2025-03-01T00:00:00Z') });

    const out = await put(bus, [entry(1), entry(2)]);

    expect(out.FailedEntryCount).toBe(0);
    const lines = (await readFile(join(dataDir, 'eventbridge', 'audit.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    const events = await readAuditLog(dataDir, 'audit');
    expect(events).toEqual([
      {
        id: out.Entries?.[0]?.EventId,
        time: '2025-03-01T00:00:00.000Z',
        source: 'trust-bridge.svid',
        'detail-type': 'SVID Issued',
        detail: { n: 1 },
        bus: 'audit',
      },
      expect.objectContaining({ id: out.Entries?.[1]?.EventId, detail: { n: 2 } }),
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('reads nothing back from a bus nobody wrote to, and takes a bus ARN for its name', async () => {
    const bus = new LocalEventBus(dataDir);
    expect(await readAuditLog(dataDir, 'audit')).toEqual([]);

    await put(bus, [entry(1, { EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/audit' })]);

    expect(await readAuditLog(dataDir, 'audit')).toHaveLength(1);
  });

  it('rejects more than 10 entries, or none, the way the SDK does, and writes nothing', async () => {
    const bus = new LocalEventBus(dataDir);

    for (const entries of [Array.from({ length: 11 }, (_, i) => entry(i)), []]) {
      const error = await put(bus, entries).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ValidationException', $fault: 'client' });
    }
    expect(await readAuditLog(dataDir, 'audit')).toEqual([]);
    expect(bus.putEventsCalls).toBe(2);
  });

  it('rejects a call over 256 KB as a whole', async () => {
    const bus = new LocalEventBus(dataDir);
    const large = (n: number) => entry(n, { Detail: JSON.stringify({ pad: 'x'.repeat(90 * 1024) }) });

    await expect(put(bus, [large(1), large(2)])).resolves.toMatchObject({ FailedEntryCount: 0 });
    await expect(put(bus, [large(1), large(2), large(3)])).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('over the limit'),
    });
    expect(await readAuditLog(dataDir, 'audit')).toHaveLength(2);
  });

  it('reports a broken entry per entry, like AWS, and keeps the others', async () => {
    const bus = new LocalEventBus(dataDir);

    const out = await put(bus, [entry(1), entry(2, { Detail: 'not json' }), entry(3, { Source: undefined })]);

    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'MalformedDetail', 'InvalidArgument']);
    expect((await readAuditLog(dataDir, 'audit')).map((e) => e.detail)).toEqual([{ n: 1 }]);
  });

  it('fails the next n entries with the injected error code, across calls', async () => {
    const bus = new LocalEventBus(dataDir);
    bus.failEntries(3, 'ThrottlingException');

    const first = await put(bus, [entry(1), entry(2)]);
    const second = await put(bus, [entry(3), entry(4)]);

    expect(first.FailedEntryCount).toBe(2);
    expect(second.Entries?.map((e) => e.ErrorCode)).toEqual(['ThrottlingException', undefined]);
    expect((await readAuditLog(dataDir, 'audit')).map((e) => e.detail)).toEqual([{ n: 4 }]);
  });

  it('answers PutEvents only', async () => {
    const bus = new LocalEventBus(dataDir);
    await expect(bus.send(new ListEventBusesCommand({}) as unknown as PutEventsCommand)).rejects.toThrow(
      /PutEventsCommand only/,
    );
  });

  it('serves the audit sink: injected failures are retried and every event lands once, valid against its schema', async () => {
    const bus = new LocalEventBus(dataDir);
    const sink = new EventBridgeAuditSink(bus, { busName: 'trust-bridge-audit', sleep: async () => {} });
    bus.failEntries(3, 'ThrottlingException');
    const events = Array.from({ length: 25 }, (_, i) => skipped(i));

    await sink.publish(events);

    const logged = await readAuditLog(dataDir, 'trust-bridge-audit');
    expect(logged.map((e) => e.detail)).toHaveLength(25);
    expect(new Set(logged.map((e) => (e.detail as { eventId: string }).eventId))).toEqual(
      new Set(events.map((e) => e.detail.eventId)),
    );
    expect(bus.putEventsCalls).toBe(4);
    for (const event of logged) expect(validateAuditEvent(event)).toEqual([]);
  });

  describe('a log whose last line was cut short (a crash mid-append)', () => {
    const logFile = () => join(dataDir, 'eventbridge', 'audit.jsonl');
    const tornLog = async () => {
      const bus = new LocalEventBus(dataDir, { onWarning: () => undefined });
      await put(bus, [entry(1)]);
      const whole = JSON.stringify({ id: 'x', time: 'y', source: 'trust-bridge.svid', detail: { n: 2 } });
      await appendFile(logFile(), whole.slice(0, 30));
    };

    it('is read without it, with a warning naming the file and the line', async () => {
      await tornLog();
      const warnings: string[] = [];
      const events = await readAuditLog(dataDir, 'audit', { onWarning: (m) => warnings.push(m) });
      expect(events.map((e) => e.detail)).toEqual([{ n: 1 }]);
      expect(warnings).toEqual([
        `skipped line 2 of ${logFile()}: not a complete event (an append cut short by a crash, or an edit); ` +
          'delete those lines to silence this warning',
      ]);
    });

    it('takes later appends on lines of their own, so every accepted event reads back', async () => {
      await tornLog();
      const warnings: string[] = [];
      const bus = new LocalEventBus(dataDir, { onWarning: (m) => warnings.push(m) });
      await Promise.all([put(bus, [entry(3)]), put(bus, [entry(4), entry(5)])]);
      await put(bus, [entry(6)]);
      expect(warnings).toEqual([
        `the last line of ${logFile()} was cut short (an append interrupted by a crash; PutEvents never answered ` +
          'it): ended it, so later events start on lines of their own; readers skip it',
      ]);
      const events = await readAuditLog(dataDir, 'audit', { onWarning: (m) => warnings.push(m) });
      expect(events.map((e) => (e.detail as { n: number }).n).sort()).toEqual([1, 3, 4, 5, 6]);
      expect(warnings[1]).toMatch(/^skipped line 2 of /);
    });

    it('skips a line that is JSON but no event, rather than handing readers a malformed one', async () => {
      await mkdir(join(dataDir, 'eventbridge'));
      await writeFile(logFile(), '{"id":"a"}\nnull\n');
      const warnings: string[] = [];
      expect(await readAuditLog(dataDir, 'audit', { onWarning: (m) => warnings.push(m) })).toEqual([]);
      expect(warnings[0]).toMatch(/^skipped lines 1, 2 of /);
    });
  });
});
