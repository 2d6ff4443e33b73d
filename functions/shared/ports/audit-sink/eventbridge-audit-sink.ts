import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type AuditEvent, auditSourceOf } from '../../domain/audit';
import { AuditDeliveryFailed } from '../../domain/errors';
import {
  type EventBridgeApi,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  putEventsEntrySize,
} from '../../aws/clients';
import type { AuditSink } from './audit-sink';
import { fullJitterMs } from '../../domain/backoff';
import { isTransientAwsError, TRANSIENT_ERROR_NAMES } from '../../aws/transient-errors';

export interface EventBridgeAuditSinkOptions {
  busName: string;
  /** PutEvents rounds per publish, the first included (default 5). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per-entry codes AWS documents as transient; others (AccessDenied, MalformedDetail…) will not heal. */
const RETRYABLE_ENTRY_CODES = new Set(['InternalFailure', 'ThrottlingException']);
/** Defence in depth for the no-secrets rule: PEM armour or a key label never leaves the process. */
const KEY_MATERIAL = /-----BEGIN|PRIVATE KEY/i;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2000;

/** Publishes audit events on an EventBridge bus: the real client on AWS, LocalEventBus at home. */
export class EventBridgeAuditSink implements AuditSink {
  private readonly busName: string;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeApi,
    options: EventBridgeAuditSinkOptions,
  ) {
    this.busName = options.busName;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: AuditEvent[]): Promise<void> {
    // Every event is checked before the first is sent, so a refused batch sends nothing.
    let pending = events.map((event, index) => this.toEntry(event, index));
    const undelivered: string[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const failures = (await Promise.all(batches(pending).map((batch) => this.put(batch)))).flat();
      const retry =
        attempt >= this.maxAttempts
          ? []
          : failures.filter((f) => RETRYABLE_ENTRY_CODES.has(f.code) || TRANSIENT_ERROR_NAMES.has(f.code));
      undelivered.push(...failures.filter((f) => !retry.includes(f)).map((f) => f.code));
      pending = retry.map((f) => f.entry);
      if (pending.length > 0) {
        await this.sleep(fullJitterMs(attempt - 1, BACKOFF_BASE_MS, BACKOFF_CAP_MS));
      }
    }
    if (undelivered.length > 0) {
      throw new AuditDeliveryFailed(
        `${undelivered.length} of ${events.length} audit events not delivered to ${this.busName} ` +
          `(at most ${this.maxAttempts} attempts each): ${summarize(undelivered)}`,
      );
    }
  }

  /** Sends one batch; returns the entries that failed with their error code. */
  private async put(
    entries: PutEventsRequestEntry[],
  ): Promise<{ entry: PutEventsRequestEntry; code: string }[]> {
    try {
      const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (!out.FailedEntryCount) return [];
      return entries.flatMap((entry, i) => {
        const code = out.Entries?.[i]?.ErrorCode;
        return code ? [{ entry, code }] : [];
      });
    } catch (error) {
      // Anything else is a bug or a permission problem, thrown as is. A timed-out call may have been delivered: a
      // round again may deliver twice, and consumers keep one per eventId.
      if (!isTransientAwsError(error)) throw error;
      const name = (error as Error).name;
      // Marked with a retryable name whatever the service called it, so the round retries it.
      const code = TRANSIENT_ERROR_NAMES.has(name) ? name : 'InternalFailure';
      return entries.map((entry) => ({ entry, code }));
    }
  }

  private toEntry(event: AuditEvent, index: number): PutEventsRequestEntry {
    const detail = JSON.stringify(event.detail);
    const what = `audit event ${index} (${event.detailType}, eventId ${event.detail.eventId})`;
    if (KEY_MATERIAL.test(detail)) {
      throw new Error(`${what} refused: its detail looks like it holds key material`);
    }
    const entry: PutEventsRequestEntry = {
      Source: auditSourceOf(event.detailType),
      DetailType: event.detailType,
      Detail: detail,
      EventBusName: this.busName,
    };
    if (putEventsEntrySize(entry) > PUT_EVENTS_MAX_BYTES) {
      throw new Error(`${what} refused: larger than the ${PUT_EVENTS_MAX_BYTES} bytes PutEvents accepts`);
    }
    return entry;
  }
}

/** Splits entries into PutEvents calls of at most 10 entries and 256 KB, in order. */
function batches(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const result: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = putEventsEntrySize(entry);
    if (current.length === PUT_EVENTS_MAX_ENTRIES || bytes + size > PUT_EVENTS_MAX_BYTES) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** "ThrottlingException ×2, MalformedDetail ×1": codes only, never the entries themselves. */
function summarize(codes: string[]): string {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].map(([code, n]) => `${code} ×${n}`).join(', ');
}
