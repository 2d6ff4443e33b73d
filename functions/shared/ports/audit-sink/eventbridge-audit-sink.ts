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
import { batchRounds, type RetryPolicy, retrying } from '../../domain/backoff';
import { isTransientAwsError } from '../../aws/transient-errors';

export interface EventBridgeAuditSinkOptions {
  busName: string;
  /** PutEvents rounds per publish for the entries that failed alone, the first included (default 5). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Per-entry codes AWS documents as transient; others (AccessDenied, MalformedDetail…) will not heal. */
const RETRYABLE_ENTRY_CODES = new Set(['InternalFailure', 'ThrottlingException']);
/** Defence in depth for the no-secrets rule: PEM armour or a key label never leaves the process. */
const KEY_MATERIAL = /-----BEGIN|PRIVATE KEY/i;

/** An entry that was not delivered, with EventBridge's error code (or the failed call's error name). */
interface Failure {
  entry: PutEventsRequestEntry;
  code: string;
  /** Whether another round may deliver it: only an entry that failed alone with a transient code. */
  retry: boolean;
}

/** Publishes audit events on an EventBridge bus: the real client on AWS, LocalEventBus at home. */
export class EventBridgeAuditSink implements AuditSink {
  private readonly busName: string;
  private readonly rounds: RetryPolicy;

  constructor(
    private readonly client: EventBridgeApi,
    options: EventBridgeAuditSinkOptions,
  ) {
    this.busName = options.busName;
    this.rounds = batchRounds(options, 2000);
  }

  async publish(events: AuditEvent[]): Promise<void> {
    // Every event is checked before the first is sent, so a refused batch sends nothing.
    let pending = events.map((event, index) => this.toEntry(event, index));
    const undelivered: string[] = [];
    const stillFailing = await retrying(this.rounds, async () => {
      const failures = (await Promise.all(batches(pending).map((batch) => this.put(batch)))).flat();
      undelivered.push(...failures.filter((f) => !f.retry).map((f) => f.code));
      const retry = failures.filter((f) => f.retry);
      pending = retry.map((f) => f.entry);
      return { result: retry, again: retry.length > 0 };
    });
    undelivered.push(...stillFailing.map((f) => f.code));
    if (undelivered.length > 0) {
      throw new AuditDeliveryFailed(
        `${undelivered.length} of ${events.length} audit events not delivered to ${this.busName} ` +
          `(at most ${this.rounds.maxAttempts} attempts each): ${summarize(undelivered)}`,
      );
    }
  }

  /** Sends one batch; returns the entries that were not delivered. */
  private async put(entries: PutEventsRequestEntry[]): Promise<Failure[]> {
    try {
      const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (!out.FailedEntryCount) return [];
      return entries.flatMap((entry, i) => {
        const code = out.Entries?.[i]?.ErrorCode;
        return code ? [{ entry, code, retry: RETRYABLE_ENTRY_CODES.has(code) }] : [];
      });
    } catch (error) {
      // Anything else is a bug or a permission problem, thrown as is.
      if (!isTransientAwsError(error)) throw error;
      // The SDK client has already retried the whole call (its maxAttempts): no round here stacks on that. The
      // entries count as undelivered, and AuditDeliveryFailed lets the workflow's Retry run the step again.
      return entries.map((entry) => ({ entry, code: (error as Error).name, retry: false }));
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
