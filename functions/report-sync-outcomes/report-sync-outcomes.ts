import type { Dependencies } from '../shared/dependencies';
import { type CaughtError, causeMessage } from '../shared/domain/caught-error';
import { type AgentOutcome, SYNC_COUNT_FIELDS, type SyncChunkSummary } from '../shared/domain/sync';
import { chunkFailedEvent, secretFailedEvent } from '../shared/domain/sync-audit-events';
import { sumCounts } from '../shared/domain/run-summary';
import { stepHandler } from '../shared/step-handler';

export interface ReportSyncOutcomesInput {
  runId: string;
  accounts: string[];
  outcomes: AgentOutcome[];
  /** Set when the chunk's targets could not be loaded: then every account of the chunk failed. */
  chunkError: CaughtError | null;
}

/**
 * Sums a chunk up. Agents that finished audited their own secrets; an agent the state machine caught failing as a
 * whole, or every account of a chunk whose targets could not be loaded, gets its failure event here. An account
 * is failed (and replayable) when its agent failed or any of its secrets did.
 */
export const reportSyncOutcomes =
  ({ audit }: Pick<Dependencies, 'audit'>) =>
  async ({ runId, accounts, outcomes, chunkError }: ReportSyncOutcomesInput): Promise<SyncChunkSummary> => {
    const done = outcomes.flatMap((o) => (o.status === 'done' ? [o] : []));
    const crashed = outcomes.flatMap((o) => (o.status === 'failed' ? [o] : []));
    const failure = (e: CaughtError) => ({ error: e.Error, message: causeMessage(e) });
    await audit.publish([
      ...crashed.map((o) => secretFailedEvent(runId, o.target, failure(o.error))),
      ...(chunkError ? accounts.map((a) => chunkFailedEvent(runId, a, failure(chunkError))) : []),
    ]);
    const failedAccounts = new Set([
      ...crashed.map((o) => o.target.accountId),
      ...done.filter((o) => o.failed > 0).map((o) => o.accountId),
      ...(chunkError ? accounts : []),
    ]);
    return {
      ...sumCounts(done, SYNC_COUNT_FIELDS),
      failedSecrets: done.reduce((total, o) => total + o.failed, 0),
      failed: failedAccounts.size,
      failedAccounts: [...failedAccounts].sort(),
    };
  };

export const createHandler = (deps: Dependencies) => stepHandler(reportSyncOutcomes(deps), deps.logger);
