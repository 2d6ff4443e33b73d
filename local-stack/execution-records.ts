import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRecord, RunningExecution } from '../engine';
import { dataDirWriter, type DataDirWriter } from './data-dir-lock';
import { type Warn, warnOnStderr } from './stand-ins/damaged-files';

/**
 * The local stack's execution history: one JSON file per execution (children included) at
 * `<dataDir>/executions/<state machine>/<execution name>.json`, so names stay taken and the operator commands
 * see past runs after a restart. An execution's file is written as it starts (RUNNING, naming the process that
 * holds the data directory) and replaced when it ends; a redriven execution overwrites its file.
 *
 * A RUNNING record whose process no longer holds the data directory belongs to a process that died (SIGKILL,
 * a crash): it reads as ABORTED, as AWS shows an execution stopped before its end, and `replay` redrives it.
 */
export const executionRecordsDir = (dataDir: string): string => join(dataDir, 'executions');

/** A running execution's record names the hold (data-dir-lock) of the process running it. */
export type RunningExecutionRecord = RunningExecution & { writer: Pick<DataDirWriter, 'pid' | 'token'> };
export type StoredExecutionRecord = ExecutionRecord | RunningExecutionRecord;

/** The error name an execution ABORTED by its process's death carries. */
export const PROCESS_DIED = 'ProcessDied';

const RECORD_SUFFIX = '.json';

export const writeExecutionRecord = async (dataDir: string, record: StoredExecutionRecord): Promise<void> => {
  const dir = join(executionRecordsDir(dataDir), record.stateMachineName);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${record.name}${RECORD_SUFFIX}`);
  // Written aside and renamed, so a process stopped mid-write never leaves half a record to restore.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(record));
  await rename(partial, path);
};

/**
 * Every recorded execution, in no particular order; none when nothing ran yet. RUNNING ones of a process that
 * no longer holds the data directory read as ABORTED; a file that is not a record is skipped with a warning.
 */
export const readExecutionRecords = async (
  dataDir: string,
  warn: Warn = warnOnStderr,
): Promise<(ExecutionRecord | RunningExecution)[]> => {
  const writer = await dataDirWriter(dataDir);
  return (await readStoredRecords(dataDir, warn)).map(
    (r) => orphanedAsAborted(r, writer) ?? withoutWriter(r),
  );
};

/**
 * For the process that holds the data directory, as it opens it: what readExecutionRecords gives, with each
 * orphaned RUNNING record written back as ABORTED, so the history stays so after a later process takes over.
 */
export const settleExecutionRecords = async (
  dataDir: string,
  holder: DataDirWriter,
  warn: Warn = warnOnStderr,
): Promise<(ExecutionRecord | RunningExecution)[]> =>
  Promise.all(
    (await readStoredRecords(dataDir, warn)).map(async (record) => {
      const aborted = orphanedAsAborted(record, holder);
      if (!aborted) return withoutWriter(record);
      await writeExecutionRecord(dataDir, aborted);
      return aborted;
    }),
  );

const orphanedAsAborted = (
  record: StoredExecutionRecord,
  holder: DataDirWriter | undefined,
): ExecutionRecord | undefined => {
  if (record.status !== 'RUNNING' || record.writer.token === holder?.token) return undefined;
  const { writer, status: _running, ...execution } = record;
  return {
    ...execution,
    status: 'ABORTED',
    error: PROCESS_DIED,
    cause:
      `trust-bridge process ${writer.pid} ended before this execution did (killed or crashed); ` +
      `\`trust-bridge replay ${record.name}\` re-runs it`,
    // When it died is not known: the time it was found so.
    stopDate: new Date().toISOString(),
    historyEventCount: 0,
    stateTransitions: 0,
  };
};

const withoutWriter = (record: StoredExecutionRecord): ExecutionRecord | RunningExecution => {
  if (record.status !== 'RUNNING') return record;
  const { writer: _writer, ...running } = record;
  return running;
};

const readStoredRecords = async (dataDir: string, warn: Warn): Promise<StoredExecutionRecord[]> => {
  const root = executionRecordsDir(dataDir);
  const machines = await readdir(root).catch(orNoneWhenMissing);
  const perMachine = await Promise.all(
    machines.map(async (machine) => {
      const files = (await readdir(join(root, machine)).catch(orNoneWhenMissing)).filter((f) =>
        f.endsWith(RECORD_SUFFIX),
      );
      return Promise.all(files.map((file) => readRecord(join(root, machine, file), warn)));
    }),
  );
  return perMachine.flat().filter((r): r is StoredExecutionRecord => r !== undefined);
};

const readRecord = async (path: string, warn: Warn): Promise<StoredExecutionRecord | undefined> => {
  const text = await readFile(path, 'utf8');
  const problem = recordProblem(text);
  if (problem === undefined) return JSON.parse(text) as StoredExecutionRecord;
  warn(
    `${path} is not an execution record (${problem}): skipped, so that run is not listed or replayable; ` +
      'move the file away or delete it to silence this',
  );
  return undefined;
};

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED'];

/** What makes a file's text no record; undefined for a record. */
const recordProblem = (text: string): string | undefined => {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return 'not a JSON object';
    record = parsed as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  const missing = ['executionArn', 'name', 'stateMachineName', 'startDate'].filter(
    (field) => typeof record[field] !== 'string',
  );
  if (missing.length > 0) return `no ${missing.join(', ')}`;
  if (!STATUSES.includes(record.status as string)) return `status ${JSON.stringify(record.status)}`;
  if (record.status === 'RUNNING') {
    const writer = record.writer as Record<string, unknown> | undefined;
    if (typeof writer?.token !== 'string' || typeof writer.pid !== 'number') return 'RUNNING with no writer';
  } else if (typeof record.stopDate !== 'string') return 'no stopDate';
  return undefined;
};

const orNoneWhenMissing = (error: NodeJS.ErrnoException): string[] => {
  if (error.code === 'ENOENT') return [];
  throw error;
};
