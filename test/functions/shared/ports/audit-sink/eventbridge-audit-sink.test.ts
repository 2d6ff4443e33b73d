import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsRequestEntry,
  type PutEventsResponse,
} from '@aws-sdk/client-eventbridge';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeAuditSink } from '../../../../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import {
  AUDIT_SOURCE,
  type AuditEvent,
  SVID_DETAIL_TYPES,
} from '../../../../../functions/shared/domain/audit';
import { AuditDeliveryFailed } from '../../../../../functions/shared/domain/errors';

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so the client and command classes are cast for the type checker only.
const eventBridge = mockClient(EventBridgeClient as never);
const PutEvents = PutEventsCommand as never;
const reply = (response: PutEventsResponse) => response as never;

function issued(n: number, extra: Partial<{ serial: string }> = {}): AuditEvent {
  return {
    detailType: SVID_DETAIL_TYPES.issued,
    detail: {
      eventId: `run-1/prod/svc-${n}/issued`,
      runId: 'run-1',
      accountId: String(100000000000 + n),
      service: `svc-${n}`,
      environment: 'prod',
      spiffeId: `spiffe://example.org/prod/svc-${n}`,
      secretName: `trust-bridge/svid/prod/svc-${n}`,
      serial: 'ab12',
      notAfter: '2025-03-02T00:00:00.000Z',
      ...extra,
    },
  };
}
const events = (count: number) => Array.from({ length: count }, (_, i) => issued(i));

const sleeps: number[] = [];
const sink = (maxAttempts = 4) =>
  new EventBridgeAuditSink(new EventBridgeClient({ region: 'us-east-1' }), {
    busName: 'trust-bridge-audit',
    maxAttempts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
const sentEntries = (call: number): PutEventsRequestEntry[] =>
  eventBridge.commandCalls(PutEvents)[call]?.args[0].input.Entries ?? [];
const serviceOf = (entry: PutEventsRequestEntry) => JSON.parse(entry.Detail ?? '{}').service;

beforeEach(() => {
  eventBridge.reset();
  sleeps.length = 0;
});

describe('EventBridgeAuditSink', () => {
  it('sends 25 events in 3 PutEvents calls of at most 10 entries, with source, detail-type, detail and bus', async () => {
    eventBridge.on(PutEvents).callsFake(async ({ Entries = [] }: PutEventsCommandInput) =>
      reply({
        FailedEntryCount: 0,
        Entries: Entries.map((_, i) => ({ EventId: `id-${i}` })),
      }),
    );
    const published = events(25);

    await sink().publish(published);

    const calls = eventBridge.commandCalls(PutEvents);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    const all = calls.flatMap((c) => c.args[0].input.Entries ?? []);
    expect(all.map((e) => JSON.parse(e.Detail ?? ''))).toEqual(published.map((e) => e.detail));
    for (const entry of all) {
      expect(entry).toMatchObject({
        Source: AUDIT_SOURCE,
        DetailType: 'SVID Issued',
        EventBusName: 'trust-bridge-audit',
      });
    }
    expect(sleeps).toEqual([]);
  });

  it('starts a new call before a batch would pass 256 KB', async () => {
    eventBridge.on(PutEvents).resolves(reply({ FailedEntryCount: 0, Entries: [] }));
    const big = Array.from({ length: 4 }, (_, i) => issued(i, { serial: 'f'.repeat(100 * 1024) }));

    await sink().publish(big);

    expect(eventBridge.commandCalls(PutEvents).map((c) => c.args[0].input.Entries?.length)).toEqual([2, 2]);
  });

  it('retries only the entries that failed, after a jittered backoff', async () => {
    eventBridge
      .on(PutEvents)
      .resolvesOnce(
        reply({
          FailedEntryCount: 2,
          Entries: [
            { EventId: 'a' },
            { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
            { EventId: 'c' },
            { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
          ],
        }),
      )
      .resolves(reply({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] }));

    await sink().publish(events(4));

    expect(eventBridge.commandCalls(PutEvents)).toHaveLength(2);
    expect(sentEntries(1).map(serviceOf)).toEqual(['svc-1', 'svc-3']);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
  });

  it.each(['ThrottlingException', 'TimeoutError', 'InternalException'])(
    'does not call again after a call failed with %s (its SDK client retried it): AuditDeliveryFailed, for the workflow to retry',
    async (name) => {
      const failed = Object.assign(new Error('Rate exceeded'), { name });
      eventBridge
        .on(PutEvents)
        .rejectsOnce(failed)
        .resolves(reply({ FailedEntryCount: 0, Entries: [] }));

      const error = await sink()
        .publish(events(12))
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AuditDeliveryFailed);
      expect((error as Error).message).toMatch(new RegExp(`^10 of 12 audit events .*: ${name} ×10$`));
      // The other batch is still delivered; the failed one is not sent again.
      expect(eventBridge.commandCalls(PutEvents).map((c) => c.args[0].input.Entries?.length)).toEqual([
        10, 2,
      ]);
      expect(sleeps).toEqual([]);
    },
  );

  it('throws a call error that no retry can heal, without retrying', async () => {
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $fault: 'client',
    });
    eventBridge.on(PutEvents).rejects(denied);

    await expect(sink().publish(events(2))).rejects.toThrow(denied);
    expect(eventBridge.commandCalls(PutEvents)).toHaveLength(1);
  });

  it('gives up after maxAttempts with AuditDeliveryFailed naming how many failed and why', async () => {
    eventBridge.on(PutEvents).callsFake(async ({ Entries = [] }: PutEventsCommandInput) =>
      reply({
        FailedEntryCount: 1,
        Entries: Entries.map((_, i) =>
          i === 0 ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' } : { EventId: `id-${i}` },
        ),
      }),
    );

    const publishing = sink(3).publish(events(5));

    await expect(publishing).rejects.toBeInstanceOf(AuditDeliveryFailed);
    await expect(publishing).rejects.toThrow(/^1 of 5 audit events not delivered .*ThrottlingException ×1$/);
    // Each round resends only the one still failing.
    expect(eventBridge.commandCalls(PutEvents).map((c) => c.args[0].input.Entries?.length)).toEqual([
      5, 1, 1,
    ]);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry entries that failed for good, and still delivers the others', async () => {
    eventBridge
      .on(PutEvents)
      .resolvesOnce(
        reply({
          FailedEntryCount: 2,
          Entries: [
            { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' },
            { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
            { EventId: 'c' },
          ],
        }),
      )
      .resolves(reply({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] }));

    const error = await sink()
      .publish(events(3))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AuditDeliveryFailed);
    expect((error as Error).message).toMatch(/^1 of 3 .*: MalformedDetail ×1$/);
    expect(sentEntries(1).map(serviceOf)).toEqual(['svc-1']);
  });

  it.each([
    ['a PEM block', '-----BEGIN CERTIFICATE-----\nMIIB'],
    ['a private key label', 'encrypted private key inside'],
  ])('refuses, before sending anything, an event whose detail holds %s', async (_, value) => {
    eventBridge.on(PutEvents).resolves(reply({ FailedEntryCount: 0, Entries: [] }));
    const poisoned = events(3);
    poisoned[2] = issued(2, { serial: value });

    const error = await sink()
      .publish(poisoned)
      .catch((e: unknown) => e);

    expect((error as Error).message).toMatch(
      /audit event 2 \(SVID Issued, eventId run-1\/prod\/svc-2\/issued\) refused/,
    );
    expect((error as Error).message).not.toContain(value);
    expect(eventBridge.commandCalls(PutEvents)).toHaveLength(0);
  });

  it('sends nothing for no events', async () => {
    await sink().publish([]);
    expect(eventBridge.commandCalls(PutEvents)).toHaveLength(0);
  });
});
