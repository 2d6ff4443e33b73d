import type { RunFiles } from './ports/run-files/run-files';

/** A child execution as a ResultWriter describes it (Transformation NONE): its input and output as JSON text. */
interface ChildEntry {
  Input?: string;
  Output?: string;
}

interface Manifest {
  ResultFiles?: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string }>>>;
}

export interface MapRunResults<Output, Input> {
  /** The output of each child execution that succeeded. */
  outputs: Output[];
  /** The input of each child that failed, timed out, was aborted or never started: its whole item did not run. */
  unfinished: Input[];
}

/**
 * What a Distributed Map's ResultWriter exported to the run's files, from its manifest (the Map's
 * ResultWriterDetails.Key): the SUCCEEDED files' outputs and the FAILED and PENDING files' inputs
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
 */
export const readMapRunResults = async <Output, Input>(
  runFiles: RunFiles,
  manifestKey: string,
): Promise<MapRunResults<Output, Input>> => {
  const manifest = (await runFiles.read(manifestKey)) as Manifest;
  const entries = async (status: 'SUCCEEDED' | 'FAILED' | 'PENDING') =>
    (
      await Promise.all(
        (manifest.ResultFiles?.[status] ?? []).map(
          async (file) => (await runFiles.read(file.Key)) as ChildEntry[],
        ),
      )
    ).flat();
  const [succeeded, failed, pending] = await Promise.all([
    entries('SUCCEEDED'),
    entries('FAILED'),
    entries('PENDING'),
  ]);
  return {
    outputs: succeeded.map((entry) => JSON.parse(entry.Output ?? 'null') as Output),
    unfinished: [...failed, ...pending].map((entry) => JSON.parse(entry.Input ?? 'null') as Input),
  };
};
