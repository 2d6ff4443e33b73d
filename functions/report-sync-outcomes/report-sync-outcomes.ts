import type { Dependencies } from '../shared/dependencies';
import { causeMessage } from '../shared/domain/caught-error';
import { type AgentOutcome, SYNC_COUNT_FIELDS, type SyncChunkSummary } from '../shared/domain/sync';
import { secretFailedEvent } from '../shared/domain/sync-audit-events';
import { sumCounts } from '../shared/domain/run-summary';
import { stepHandler } from '../shared/step-handler';

export interface ReportSyncOutcomesInput {
  runId: string;
  outcomes: AgentOutcome[];
}

/**
 * Sums a chunk up. Agents that finished audited their own secrets; an agent the state machine caught failing as a
 * whole gets its failure event here. An account is failed (and replayable) when its agent failed or any of its
 * secrets did.
 */
export const reportSyncOutcomes =
  ({ audit }: Pick<Dependencies, 'audit'>) =>
  async ({ runId, outcomes }: ReportSyncOutcomesInput): Promise<SyncChunkSummary> => {
    const done = outcomes.flatMap((o) => (o.status === 'done' ? [o] : []));
    const crashed = outcomes.flatMap((o) => (o.status === 'failed' ? [o] : []));
    await audit.publish(
      crashed.map((o) =>
        secretFailedEvent(runId, o.target, { error: o.error.Error, message: causeMessage(o.error) }),
      ),
    );
    const failedAccounts = new Set([
      ...crashed.map((o) => o.target.accountId),
      ...done.filter((o) => o.failed > 0).map((o) => o.accountId),
    ]);
    return {
      ...sumCounts(done, SYNC_COUNT_FIELDS),
      failedSecrets: done.reduce((total, o) => total + o.failed, 0),
      failed: failedAccounts.size,
      failedAccounts: [...failedAccounts].sort(),
    };
  };

export const createHandler = (deps: Dependencies) => stepHandler(reportSyncOutcomes(deps), deps.logger);
