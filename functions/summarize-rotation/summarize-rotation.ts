import type { Logger } from '@aws-lambda-powertools/logger';
import { settingsOf } from '../shared/config';
import type { ChunkSummary, RotationSummary } from '../shared/domain/rotation';
import { runFailure } from '../shared/domain/replay';
import { failedAccountsOf, sumCounts } from '../shared/domain/run-summary';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf();

export interface SummarizeRotationInput {
  runId: string;
  force: boolean;
  skipped: number;
  chunks: ChunkSummary[];
}

/**
 * Adds up the chunks. When accounts failed, `replay` is the input that re-runs exactly those accounts, and
 * `cause` (what the execution's failure shows) is that input as JSON, or a pointer to it when too long.
 */
export const summarizeRotation =
  () =>
  async ({ runId, force, skipped, chunks }: SummarizeRotationInput): Promise<RotationSummary> => {
    const counts = sumCounts(chunks, ['issued', 'skipped', 'deleted', 'failed'] as const);
    const summary: RotationSummary = {
      runId,
      ...counts,
      skipped: skipped + counts.skipped,
      replay: { accounts: failedAccountsOf(chunks), force },
    };
    if (summary.failed === 0) return summary;
    return { ...summary, ...runFailure(summary.replay, 'Summarize Rotation') };
  };

export const createHandler = (deps: { logger: Logger }) => stepHandler(summarizeRotation(), deps.logger);
