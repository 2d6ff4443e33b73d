import type { Dependencies } from '../shared/dependencies';
import type { ChunkSummary, RotationSummary } from '../shared/domain/rotation';
import { stepHandler } from '../shared/step-handler';

export interface SummarizeRotationInput {
  runId: string;
  force: boolean;
  skipped: number;
  chunks: ChunkSummary[];
}

/** Step Functions keeps at most 32,768 characters of a Fail state's cause. */
const MAX_CAUSE = 32_768;

/**
 * Adds up the chunks. When accounts failed, `replay` is the input that re-runs exactly those accounts, and
 * `cause` (what the execution's failure shows) is that input as JSON, or a pointer to it when too long.
 */
export const summarizeRotation =
  () =>
  async ({ runId, force, skipped, chunks }: SummarizeRotationInput): Promise<RotationSummary> => {
    const sum = (pick: (c: ChunkSummary) => number) => chunks.reduce((total, c) => total + pick(c), 0);
    const failedAccounts = [...new Set(chunks.flatMap((c) => c.failedAccounts))].sort();
    const summary: RotationSummary = {
      runId,
      issued: sum((c) => c.issued),
      skipped: skipped + sum((c) => c.skipped),
      deleted: sum((c) => c.deleted),
      failed: sum((c) => c.failed),
      replay: { accounts: failedAccounts, force },
    };
    if (summary.failed === 0) return summary;
    const replayJson = JSON.stringify(summary.replay);
    return {
      ...summary,
      error: 'AccountsFailed',
      cause:
        replayJson.length <= MAX_CAUSE
          ? replayJson
          : `${failedAccounts.length} accounts failed; the replay input is the 'replay' field of the output of state 'Summarize Rotation'`,
    };
  };

export const createHandler = (deps: Dependencies) => stepHandler(summarizeRotation(), deps.logger);
