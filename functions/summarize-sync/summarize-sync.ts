import type { Logger } from '@aws-lambda-powertools/logger';
import { settingsOf } from '../shared/config';
import { runFailure } from '../shared/domain/replay';
import { failedAccountsOf, sumCounts } from '../shared/domain/run-summary';
import { SYNC_COUNT_FIELDS, type SyncChunkSummary, type SyncSummary } from '../shared/domain/sync';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf();

export interface SummarizeSyncInput {
  runId: string;
  secret: string | null;
  chunks: SyncChunkSummary[];
}

/** Adds up the chunks; when accounts failed, names them as the replay input (for the same secret, if any). */
export const summarizeSync =
  () =>
  async ({ runId, secret, chunks }: SummarizeSyncInput): Promise<SyncSummary> => {
    const summary: SyncSummary = {
      runId,
      ...sumCounts(chunks, [...SYNC_COUNT_FIELDS, 'failedSecrets', 'failed'] as const),
      replay: { accounts: failedAccountsOf(chunks), ...(secret ? { secret } : {}) },
    };
    if (summary.failed === 0) return summary;
    return { ...summary, ...runFailure(summary.replay, 'Summarize Sync') };
  };

export const createHandler = (deps: { logger: Logger }) => stepHandler(summarizeSync(), deps.logger);
