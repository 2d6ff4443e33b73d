import type { RunFile } from '../../domain/run-files';

/**
 * Where a run's plan and results are kept: JSON documents in one bucket (S3 on AWS), a folder per run
 * (domain/run-files.ts). What would not fit a state payload goes here, and the payload carries where it is.
 */
export interface RunFiles {
  /** Writes `document` as JSON under `key`, replacing what is there: a retried step writes the same again. */
  write(key: string, document: unknown): Promise<RunFile>;
  /** Reads the JSON document at `key` (a step's, or one a Map Run's ResultWriter wrote). */
  read(key: string): Promise<unknown>;
}
