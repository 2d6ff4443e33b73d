import type { ExecutionRecord } from '../engine';
import type { SyncRequest } from '../functions/shared/domain/sync';

/** Webhook syncs the local stack runs at once unless told otherwise: enough to keep 2 cores busy, no more. */
export const DEFAULT_WEBHOOK_SYNC_CONCURRENCY = 4;

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
 * A change for a secret that is already queued joins that queued sync: it has not read Keywhiz yet, so it
 * will read the later content too. A sync already running may have read the older content, so a change
 * during it queues a new sync, which starts only once the running one ends: two syncs of one secret never
 * race, and the later content is written last.
 */
export class WebhookSyncQueue {
  /** Queued changes by secret, oldest first (a Map keeps insertion order). */
  private readonly waiting = new Map<string, SyncRequest>();
  private readonly running = new Set<string>();
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

  /** Queues a sync of the change's secret, or folds the change into the one already queued. */
  add(change: SyncRequest): void {
    this.counts.received += 1;
    const key = change.secret ?? '';
    const queued = this.waiting.get(key);
    if (queued) {
      this.counts.coalesced += 1;
      this.waiting.set(key, merge(queued, change));
    } else {
      this.waiting.set(key, change);
    }
    this.pump();
  }

  /** Counts so far, and how many syncs run and wait right now. */
  status(): WebhookSyncQueueCounts & { running: number; queued: number } {
    return { ...this.counts, running: this.running.size, queued: this.waiting.size };
  }

  /**
   * Resolves once nothing runs or waits, with every execution finished since the previous call. Rejects if
   * a sync could not even be started (StartExecution refused it), which is a bug, not a failed run.
   */
  async settled(): Promise<ExecutionRecord[]> {
    if (this.running.size > 0 || this.waiting.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    const failures = this.failures.splice(0);
    if (failures.length > 0) throw new AggregateError(failures, 'a webhook sync could not be started');
    return this.finished.splice(0);
  }

  private pump(): void {
    for (const [key, request] of this.waiting) {
      if (this.running.size >= this.concurrency) return;
      if (this.running.has(key)) continue;
      this.waiting.delete(key);
      this.running.add(key);
      this.counts.started += 1;
      this.counts.peakRunning = Math.max(this.counts.peakRunning, this.running.size);
      this.start(request)
        .then(
          (record) => this.finished.push(record),
          (error: unknown) => this.failures.push(error),
        )
        .finally(() => {
          this.running.delete(key);
          this.pump();
          if (this.running.size === 0 && this.waiting.size === 0) {
            for (const resolve of this.idleWaiters.splice(0)) resolve();
          }
        });
    }
  }
}

/**
 * One request for both changes: the later delivery and event name it (what the run reports), and the
 * services are the union, or every service when either change named none.
 */
const merge = (queued: SyncRequest, later: SyncRequest): SyncRequest => {
  const services =
    queued.services && later.services ? [...new Set([...queued.services, ...later.services])] : undefined;
  const { services: _drop, ...rest } = { ...queued, ...later };
  return services ? { ...rest, services } : rest;
};
