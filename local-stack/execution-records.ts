import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRecord } from '../engine';

/**
 * The local stack's execution history: one JSON file per finished execution (children included) at
 * `<dataDir>/executions/<state machine>/<execution name>.json`, so names stay taken and the operator commands
 * see past runs after a restart. A redriven execution overwrites its file.
 */
export const executionRecordsDir = (dataDir: string): string => join(dataDir, 'executions');

const RECORD_SUFFIX = '.json';

export const writeExecutionRecord = async (dataDir: string, record: ExecutionRecord): Promise<void> => {
  const dir = join(executionRecordsDir(dataDir), record.stateMachineName);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${record.name}${RECORD_SUFFIX}`);
  // Written aside and renamed, so a process stopped mid-write never leaves half a record to restore.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(record));
  await rename(partial, path);
};

/** Every recorded execution, in no particular order; none when nothing ran yet. */
export const readExecutionRecords = async (dataDir: string): Promise<ExecutionRecord[]> => {
  const root = executionRecordsDir(dataDir);
  const machines = await readdir(root).catch(orNoneWhenMissing);
  const perMachine = await Promise.all(
    machines.map(async (machine) => {
      const files = (await readdir(join(root, machine)).catch(orNoneWhenMissing)).filter((f) =>
        f.endsWith(RECORD_SUFFIX),
      );
      return Promise.all(files.map((file) => readRecord(join(root, machine, file))));
    }),
  );
  return perMachine.flat();
};

const readRecord = async (path: string): Promise<ExecutionRecord> => {
  const text = await readFile(path, 'utf8');
  try {
    const record = JSON.parse(text) as ExecutionRecord;
    if (typeof record.executionArn !== 'string' || typeof record.stateMachineName !== 'string') {
      throw new Error('no executionArn or stateMachineName');
    }
    return record;
  } catch (error) {
    throw new Error(`${path} is not an execution record (${(error as Error).message}); move it away`, {
      cause: error,
    });
  }
};

const orNoneWhenMissing = (error: NodeJS.ErrnoException): string[] => {
  if (error.code === 'ENOENT') return [];
  throw error;
};
