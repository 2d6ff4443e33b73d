import * as z from './zod';
import { replayOfSchema, runFileSchema, type RunOutcome } from './replay';
import type { RunFile } from './run-files';
import { accountIdSchema, type Enrollment, nameSegmentSchema } from './enrollment';
import { KEYWHIZ_NAME_MAX } from './keywhiz';
import type { SyncTarget } from './sync-audit-events';

export type { SyncTarget } from './sync-audit-events';

/**
 * Input of a sync run. The hourly schedule sends `{}` (full reconcile of every secret-enabled account); the
 * webhook rule passes the change (`secret`, optional `services`, and its `deliveryId` and `event`); an operator or
 * a replay names `accounts`, optionally with `secret`.
 */
export const syncRequestSchema = z.strictObject({
  secret: z.optional(z.string().check(z.minLength(1), z.maxLength(KEYWHIZ_NAME_MAX))),
  services: z.optional(z.array(nameSegmentSchema).check(z.minLength(1, 'must name at least one service'))),
  accounts: z.optional(z.array(accountIdSchema).check(z.minLength(1, 'must name at least one account'))),
  deliveryId: z.optional(z.string()),
  event: z.optional(z.enum(['secret.created', 'secret.updated', 'secret.deleted'])),
  replayOf: z.optional(replayOfSchema),
  /** A replay too long for an input: the failed run's kept replay input, whose accounts (and secret) the run takes. */
  replayFrom: z.optional(runFileSchema),
});
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/** One child execution's share of a sync run: account ids only, so a plan stays small (as rotation's). */
/** One child execution's share of a sync run. */
export interface SyncChunk {
  accounts: string[];
}

export interface SyncPlan {
  runId: string;
  /** The one Keywhiz secret to sync, or null for a full reconcile. */
  secret: string | null;
  /** The services a change names, or null for every secret-enabled service. */
  services: string[] | null;
  accountConcurrency: number;
  chunkConcurrency: number;
  /** The chunks (SyncChunk[]) in the run's files, the items of 'Sync Each Chunk' (a Distributed Map), and how many. */
  chunks: RunFile & { count: number };
  /** Where the Map Run writes its results (the ResultWriter's bucket and prefix). */
  results: { bucket: string; prefix: string };
  /** How many agents the run starts. */
  targets: number;
}

/** The secret-enabled (account, service) targets of `accounts`, narrowed to `services` when given, in order. */
export const syncTargets = (
  enrollments: Enrollment[],
  accounts: ReadonlySet<string> | undefined,
  services: ReadonlySet<string> | undefined,
): SyncTarget[] =>
  enrollments
    .filter(
      (e) => e.secrets && (!accounts || accounts.has(e.accountId)) && (!services || services.has(e.service)),
    )
    .map(({ accountId, service, environment }) => ({ accountId, service, environment }))
    .sort((a, b) => a.accountId.localeCompare(b.accountId) || a.service.localeCompare(b.service));

/** What one agent did for one (account, service): counts of secrets, names never. */
export interface AgentSyncCounts {
  synced: number;
  unchanged: number;
  deleted: number;
  restored: number;
  refused: number;
  /** Secrets that failed on their own (too large, unmappable name…); the account is then replayable. */
  failed: number;
}

export interface AgentSyncResult extends SyncTarget, AgentSyncCounts {
  status: 'done';
}

/** An agent the state machine's Catch recorded as failed as a whole (Keywhiz down, no SVID…). */
export interface AgentFailure {
  status: 'failed';
  target: SyncTarget;
  error: { Error: string; Cause?: string };
}

export type AgentOutcome = AgentSyncResult | AgentFailure;

export const SYNC_COUNT_FIELDS = ['synced', 'unchanged', 'deleted', 'restored', 'refused'] as const;

export interface SyncChunkSummary extends Omit<AgentSyncCounts, 'failed'> {
  /** Failed secrets inside agents that finished. */
  failedSecrets: number;
  /** Accounts with a failed agent or any failed secret: what a replay re-runs. */
  failed: number;
  failedAccounts: string[];
}

export type SyncSummary = Omit<SyncChunkSummary, 'failedAccounts'> & RunOutcome & { runId: string };
