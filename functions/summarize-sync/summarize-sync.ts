import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { runFileKeys } from '../shared/domain/run-files';
import { type ChunkItem, failedAccountsOf, sumCounts, unfinishedChunk } from '../shared/domain/run-summary';
import { SYNC_COUNT_FIELDS, type SyncChunkSummary, type SyncSummary } from '../shared/domain/sync';
import { readMapRunResults } from '../shared/map-run-results';
import { runOutcome } from '../shared/run-outcome';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('AWS_REGION', 'RUN_FILES_BUCKET');
export type SummarizeSyncDependencies = StepDependencies<typeof settings, 'runFiles'>;

export interface SummarizeSyncInput {
  runId: string;
  secret: string | null;
  /** The manifest 'Sync Each Chunk' wrote to the run's files (its ResultWriterDetails.Key). */
  results: string;
}

const COUNTERS = [...SYNC_COUNT_FIELDS, 'failedSecrets', 'failed'] as const;

/**
 * Adds up the chunks the Map Run's results hold; when accounts failed, names them as the replay input (for the
 * same secret, if any), in the cause or, when too long, in the run's files.
 */
export const summarizeSync =
  ({ runFiles }: Pick<SummarizeSyncDependencies, 'runFiles'>) =>
  async ({ runId, secret, results }: SummarizeSyncInput): Promise<SyncSummary> => {
    const { outputs, unfinished } = await readMapRunResults<SyncChunkSummary, ChunkItem>(runFiles, results);
    const chunks = [...outputs, ...unfinished.map((item) => unfinishedChunk(COUNTERS, item))];
    const replay = { accounts: failedAccountsOf(chunks), ...(secret ? { secret } : {}) };
    return {
      runId,
      ...sumCounts(chunks, COUNTERS),
      ...(await runOutcome(runFiles, runFileKeys('sync-secrets', runId).replay, replay)),
    };
  };

export const createHandler = (deps: SummarizeSyncDependencies) =>
  stepHandler(summarizeSync(deps), deps.logger);
