import { type KeptReplay, type ReplayInput, replayCause, type RunOutcome } from './domain/replay';
import type { RunFiles } from './ports/run-files/run-files';

/**
 * The outcome of a run from its replay input: nothing failed, or error AccountsFailed with the replay input as the
 * cause. An input too long for a cause (a few thousand accounts) is written to the run's files and the cause says
 * where, so a run whose 100,000 accounts all failed still ends within the payload and cause limits.
 */
export const runOutcome = async (
  runFiles: RunFiles,
  replayKey: string,
  replay: ReplayInput,
): Promise<RunOutcome> => {
  if (replay.accounts.length === 0) return { replay };
  const cause = replayCause(replay);
  if (cause !== undefined) return { replay, error: 'AccountsFailed', cause };
  const kept = await runFiles.write(replayKey, replay);
  const keptReplay: KeptReplay = { replayFrom: kept, failedAccounts: replay.accounts.length };
  return { replayFile: kept, error: 'AccountsFailed', cause: JSON.stringify(keptReplay) };
};
