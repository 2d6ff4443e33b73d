import { InvalidRunRequest } from './domain/errors';
import { type ReplayInput, replayInputSchema } from './domain/replay';
import { type RunFile, runFileKeys, type RunWorkflow } from './domain/run-files';
import type { RunFiles } from './ports/run-files/run-files';

/**
 * The replay input a run's `replayFrom` names: a failed run of this workflow kept it in the run files' bucket, too
 * long for its failure's cause. Anything else (another bucket or file, a file that is gone or not a replay input)
 * is an InvalidRunRequest, and the run changes nothing.
 */
export const keptReplay = async (
  runFiles: RunFiles,
  bucket: string,
  workflow: RunWorkflow,
  file: RunFile,
): Promise<ReplayInput> => {
  const where = `s3://${file.bucket}/${file.key}`;
  const runId = file.key.split('/')[1] ?? '';
  if (file.bucket !== bucket || file.key !== runFileKeys(workflow, runId).replay) {
    throw new InvalidRunRequest(
      `replayFrom must name a ${workflow} run's replay.json in the run files' bucket ${bucket}, not ${where}`,
    );
  }
  let document: unknown;
  try {
    document = await runFiles.read(file.key);
  } catch (error) {
    if ((error as Error).name !== 'NoSuchKey') throw error;
    throw new InvalidRunRequest(`replayFrom names ${where}, which does not exist (expired or never written)`);
  }
  const parsed = replayInputSchema.safeParse(document);
  if (!parsed.success) throw new InvalidRunRequest(`replayFrom names ${where}, which holds no replay input`);
  return parsed.data;
};

/** A run request whose `replayFrom` is replaced by what it names: the accounts, and the force or secret, to re-run. */
export const withKeptReplay = async <
  R extends { accounts?: string[]; replayFrom?: RunFile; force?: boolean; secret?: string },
>(
  request: R,
  runFiles: RunFiles,
  bucket: string,
  workflow: RunWorkflow,
): Promise<R> => {
  const { replayFrom, ...rest } = request;
  if (!replayFrom) return request;
  if (request.accounts) throw new InvalidRunRequest('give either accounts or replayFrom, not both');
  const { accounts, force, secret } = await keptReplay(runFiles, bucket, workflow, replayFrom);
  return {
    ...rest,
    accounts,
    ...(force !== undefined && { force }),
    ...(secret !== undefined && { secret }),
  } as R;
};
