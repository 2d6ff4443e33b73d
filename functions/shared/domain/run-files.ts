/** A file of a run: the object a step wrote, or a Distributed Map reads or writes. */
export interface RunFile {
  bucket: string;
  key: string;
}

/** The workflows whose runs keep files: each run's folder is under its workflow's (execution names are per machine). */
export type RunWorkflow = 'rotate-svids' | 'sync-secrets';

/**
 * Where one run's files are, under `<workflow>/<run id>/`: the chunk orders its plan wrote (the items of its
 * Distributed Map), the folder the Map Run writes its results to, and the replay input of its failed accounts when
 * too long for the failure's cause. A retried or redriven step writes the same keys again.
 */
export const runFileKeys = (workflow: RunWorkflow, runId: string) => {
  const folder = `${workflow}/${runId}`;
  return {
    chunks: `${folder}/chunks.json`,
    results: `${folder}/results`,
    replay: `${folder}/replay.json`,
  };
};
