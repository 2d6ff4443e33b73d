import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import type { ChunkSummary, RotationSummary } from '../shared/domain/rotation';
import { runFileKeys } from '../shared/domain/run-files';
import { type ChunkItem, failedAccountsOf, sumCounts, unfinishedChunk } from '../shared/domain/run-summary';
import { readMapRunResults } from '../shared/map-run-results';
import { runOutcome } from '../shared/run-outcome';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('AWS_REGION', 'RUN_FILES_BUCKET');
export type SummarizeRotationDependencies = StepDependencies<typeof settings, 'runFiles'>;

export interface SummarizeRotationInput {
  runId: string;
  force: boolean;
  skipped: number;
  /** The manifest 'Rotate Each Chunk' wrote to the run's files (its ResultWriterDetails.Key). */
  results: string;
}

const COUNTERS = ['issued', 'skipped', 'deleted', 'failed'] as const;

/**
 * Adds up the chunks the Map Run's results hold. When accounts failed, `replay` is the input that re-runs exactly
 * those accounts, and `cause` (what the execution's failure shows) is that input as JSON, or where it is kept when
 * too long.
 */
export const summarizeRotation =
  ({ runFiles }: Pick<SummarizeRotationDependencies, 'runFiles'>) =>
  async ({ runId, force, skipped, results }: SummarizeRotationInput): Promise<RotationSummary> => {
    const { outputs, unfinished } = await readMapRunResults<ChunkSummary, ChunkItem>(runFiles, results);
    const chunks = [...outputs, ...unfinished.map((item) => unfinishedChunk(COUNTERS, item))];
    const counts = sumCounts(chunks, COUNTERS);
    const replay = { accounts: failedAccountsOf(chunks), force };
    return {
      runId,
      ...counts,
      skipped: skipped + counts.skipped,
      ...(await runOutcome(runFiles, runFileKeys('rotate-svids', runId).replay, replay)),
    };
  };

export const createHandler = (deps: SummarizeRotationDependencies) =>
  stepHandler(summarizeRotation(deps), deps.logger);
