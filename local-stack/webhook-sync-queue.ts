import type { ExecutionRecord } from '../engine';
import type { SyncRequest } from '../functions/shared/domain/sync';

/**
 * Webhook syncs the local stack runs at once unless told otherwise. Measured with `bench burst` (20 deliveries
 * a second over 10 services, 2 busy cores): 8 put every change in the store within 5 s; 4 left up to 13 of
 * 1,200 later, waiting for a slot. Each running sync holds one Keywhiz connection, so the bound stays small.
 */
export const DEFAULT_WEBHOOK_SYNC_CONCURRENCY = 8;

/** What the queue has done so far, for benchmarks and the operator. */
export interface WebhookSyncQueueCounts {
  /** Changes handed to the queue. */
  received: number;
  /** Changes absorbed by a sync of the same secret that was already queued. */
  coalesced: number;
  /** Sync executions started. */
  started: number;
  /** The most syncs that ran at once. */
  peakRunning: number;
}

/**
 * The webhook rule's target on the local stack: at most `concurrency` syncs at once, the rest queued.
 *
 * A change joins a sync that is queued, not yet started, so it has not read Keywhiz and will read the
 * later content too: the queued sync of the same secret, or the queued sync of the same services (which
 * then syncs every secret of those services, one listing, as the hourly reconcile does). A sync already
 * running may have read the older content, so it never stands in for a later change; and a queued sync
 * starts only when no running or earlier queued sync touches the same secret, so two syncs never race over
 * one secret and the later content is written last.
 */
export class WebhookSyncQueue {
  /** Queued syncs, oldest first. */
  private readonly waiting: SyncRequest[] = [];
  private readonly running = new Set<SyncRequest>();
  private readonly finished: ExecutionRecord[] = [];
  private readonly failures: unknown[] = [];
  private idleWaiters: Array<() => void> = [];
  private readonly counts: WebhookSyncQueueCounts = { received: 0, coalesced: 0, started: 0, peakRunning: 0 };

  constructor(
    private readonly concurrency: number,
    private readonly start: (request: SyncRequest) => Promise<ExecutionRecord>,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`webhook sync concurrency ${concurrency}: must be a whole number of at least 1`);
    }
  }

  /** Queues a sync of the change, or folds the change into a queued sync that will read it anyway. */
  add(change: SyncRequest): void {
    this.counts.received += 1;
    const at = this.waiting.findIndex((queued) => fold(queued, change) !== undefined);
    const queued = this.waiting[at];
    if (queued) {
      this.counts.coalesced += 1;
      this.waiting[at] = fold(queued, change) as SyncRequest;
    } else {
      this.waiting.push(change);
    }
    this.pump();
  }

  /** Counts so far, and how many syncs run and wait right now. */
  status(): WebhookSyncQueueCounts & { running: number; queued: number } {
    return { ...this.counts, running: this.running.size, queued: this.waiting.length };
  }

  /**
   * Resolves once nothing runs or waits, with every execution finished since the previous call. Rejects if
   * a sync could not even be started (StartExecution refused it), which is a bug, not a failed run.
   */
  async settled(): Promise<ExecutionRecord[]> {
    if (this.running.size > 0 || this.waiting.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    const failures = this.failures.splice(0);
    if (failures.length > 0) throw new AggregateError(failures, 'a webhook sync could not be started');
    return this.finished.splice(0);
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.running.size < this.concurrency; i++) {
      const request = this.waiting[i] as SyncRequest;
      const blocked =
        [...this.running].some((r) => overlap(r, request)) ||
        this.waiting.slice(0, i).some((earlier) => overlap(earlier, request));
      if (blocked) continue;
      this.waiting.splice(i--, 1);
      this.running.add(request);
      this.counts.started += 1;
      this.counts.peakRunning = Math.max(this.counts.peakRunning, this.running.size);
      this.start(request)
        .then(
          (record) => this.finished.push(record),
          (error: unknown) => this.failures.push(error),
        )
        .finally(() => {
          this.running.delete(request);
          this.pump();
          if (this.running.size === 0 && this.waiting.length === 0) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
          }
        });
    }
  }
}

/** A change's services; undefined is every service. */
const servicesOf = (r: SyncRequest): ReadonlySet<string> | undefined =>
  r.services ? new Set(r.services) : undefined;

const within = (inner: SyncRequest, outer: SyncRequest): boolean => {
  const all = servicesOf(outer);
  return !all || (inner.services !== undefined && inner.services.every((s) => all.has(s)));
};

const sameServices = (a: SyncRequest, b: SyncRequest) => within(a, b) && within(b, a);

/** Whether two syncs could write the same secret: they share a service, and a secret (or one syncs all). */
const overlap = (a: SyncRequest, b: SyncRequest): boolean => {
  const servicesMeet = !a.services || !b.services || a.services.some((s) => b.services?.includes(s));
  return servicesMeet && (a.secret === undefined || b.secret === undefined || a.secret === b.secret);
};

/**
 * The queued sync that also covers `later`, or undefined when it cannot: the same secret (over both
 * changes' services), a sync of every secret of services that include the change's, or, for another secret
 * of the same services, a sync of every secret of those services. The later delivery and event name it.
 */
const fold = (queued: SyncRequest, later: SyncRequest): SyncRequest | undefined => {
  const named = { ...queued, deliveryId: later.deliveryId, event: later.event };
  if (queued.secret === later.secret) {
    const services =
      queued.services && later.services ? [...new Set([...queued.services, ...later.services])] : undefined;
    const { services: _all, ...rest } = named;
    return services ? { ...rest, services } : rest;
  }
  if (queued.secret === undefined) return within(later, queued) ? named : undefined;
  if (later.secret !== undefined && queued.services && sameServices(queued, later)) {
    const { secret: _one, ...everySecret } = named;
    return everySecret;
  }
  return undefined;
};
