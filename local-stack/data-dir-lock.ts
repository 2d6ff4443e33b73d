import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readIfPresent } from './read-if-present';

/**
 * One data directory, one writer: a process that opens the local stack holds `<dataDir>/writer.lock`, a file
 * naming its pid. A second process is refused (DataDirInUse) rather than made to wait, because the holder may
 * be a `start --serve` that keeps the directory for hours: waiting would look like a hang, while the refusal
 * says who holds it. Readers (executions, status, verify) take no lock: every file is written whole and
 * renamed into place, so they never see half a write.
 *
 * A holder killed with SIGKILL leaves the file behind. Its pid is then gone, and the next process takes the
 * directory over. Only the process that holds the claim on that stale file (`writer.lock.<its token>.takeover`,
 * itself a lock of the same kind) may remove it, so two processes finding the same stale file cannot both win.
 */

/** Who holds a data directory: a process, and the token of this hold (a pid is reused, a token never). */
export interface DataDirWriter {
  pid: number;
  token: string;
  since: string;
}

export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
  constructor(
    readonly dataDir: string,
    readonly writer: DataDirWriter,
  ) {
    super(
      `${dataDir} is in use by process ${writer.pid} (since ${writer.since}): one process writes a data ` +
        'directory at a time. Wait for it to end or stop it, or give another --data-dir. ' +
        `If no trust-bridge process has pid ${writer.pid}, delete ${lockFileOf(dataDir)}.`,
    );
  }
}

export interface DataDirLock {
  writer: DataDirWriter;
  /** Gives the directory up (once every hold this process took on it is released). */
  release(): Promise<void>;
}

const LOCK_FILE = 'writer.lock';
/** A takeover claim is held for a few file operations: a live claimer is waited for, this many times. */
const CLAIM_RETRIES = 100;
const CLAIM_RETRY_MS = 20;

export const lockFileOf = (dataDir: string): string => join(dataDir, LOCK_FILE);

/** The holds of this process, per data directory: stacks opened twice in one process share one. */
const holds = new Map<string, { writer: Promise<DataDirWriter>; count: number }>();

/** Holds the data directory for this process, or rejects with DataDirInUse naming the live holder. */
export const lockDataDir = async (dataDir: string): Promise<DataDirLock> => {
  const key = resolve(dataDir);
  let hold = holds.get(key);
  if (!hold) {
    hold = {
      writer: mkdir(dataDir, { recursive: true }).then(() => holdFile(lockFileOf(dataDir))),
      count: 0,
    };
    holds.set(key, hold);
    removeOnExit();
  }
  hold.count += 1;
  const taken = hold;
  let writer: DataDirWriter;
  try {
    writer = await taken.writer;
  } catch (error) {
    if (--taken.count === 0 && holds.get(key) === taken) holds.delete(key);
    if (error instanceof FileHeld) throw new DataDirInUse(dataDir, error.writer);
    throw error;
  }
  let released = false;
  return {
    writer,
    release: async () => {
      if (released) return;
      released = true;
      if (--taken.count > 0 || holds.get(key) !== taken) return;
      holds.delete(key);
      await releaseFile(lockFileOf(dataDir), writer);
    },
  };
};

/** The process writing the data directory now, if any (a stale lock names none). */
export const dataDirWriter = async (dataDir: string): Promise<DataDirWriter | undefined> => {
  const own = holds.get(resolve(dataDir));
  if (own) return own.writer.catch(() => undefined);
  const writer = await readWriter(lockFileOf(dataDir)).catch(() => undefined);
  return writer && isAlive(writer.pid) ? writer : undefined;
};

class FileHeld extends Error {
  constructor(readonly writer: DataDirWriter) {
    super(`held by process ${writer.pid}`);
  }
}

/** Creates `path` naming this process, taking it over from a dead holder; throws FileHeld for a live one. */
const holdFile = async (path: string): Promise<DataDirWriter> => {
  for (let attempt = 0; ; attempt += 1) {
    const mine: DataDirWriter = { pid: process.pid, token: randomUUID(), since: new Date().toISOString() };
    if (await createWhole(path, mine)) return mine;
    const holder = await readWriter(path);
    if (holder === undefined) continue; // released between our two looks
    if (isAlive(holder.pid)) throw new FileHeld(holder);
    const claimPath = `${path}.${holder.token}.takeover`;
    let claim: DataDirWriter;
    try {
      claim = await holdFile(claimPath);
    } catch (error) {
      // Another process is taking the same stale file over: it is done within milliseconds.
      if (!(error instanceof FileHeld) || attempt >= CLAIM_RETRIES) throw error;
      await new Promise((r) => setTimeout(r, CLAIM_RETRY_MS));
      continue;
    }
    try {
      // Under the claim, the stale file is ours to remove, if it is still the one we saw.
      if ((await readWriter(path))?.token === holder.token) await unlink(path).catch(ignoreMissing);
    } finally {
      await releaseFile(claimPath, claim);
    }
  }
};

/** Writes the holder aside, then links it into place: the file appears whole or not at all (false: taken). */
const createWhole = async (path: string, writer: DataDirWriter): Promise<boolean> => {
  const aside = `${path}.${writer.token}.tmp`;
  await writeFile(aside, JSON.stringify(writer));
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(aside).catch(ignoreMissing);
  }
};

/** The holder a lock file names; undefined when there is no file. */
const readWriter = async (path: string): Promise<DataDirWriter | undefined> => {
  const text = await readIfPresent(path);
  return text === undefined ? undefined : parseWriter(path, text);
};

const parseWriter = (path: string, text: string): DataDirWriter => {
  let parsed: Partial<DataDirWriter> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<DataDirWriter>;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed?.pid !== 'number' || typeof parsed.token !== 'string') {
    throw new Error(
      `${path} is not a lock trust-bridge wrote: if no trust-bridge process uses that data directory, delete it`,
    );
  }
  return { pid: parsed.pid, token: parsed.token, since: String(parsed.since) };
};

const releaseFile = async (path: string, writer: DataDirWriter): Promise<void> => {
  const holder = await readWriter(path).catch(() => undefined);
  if (holder?.token === writer.token) await unlink(path).catch(ignoreMissing);
};

/** Signal 0 tests for a process without touching it; EPERM means it exists under another user. */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const ignoreMissing = (error: NodeJS.ErrnoException): void => {
  if (error.code !== 'ENOENT') throw error;
};

let exitHook = false;
/** A process that ends without closing its stack (an uncaught error, process.exit) still gives its locks up. */
const removeOnExit = () => {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [dataDir] of holds) {
      const path = lockFileOf(dataDir);
      try {
        if ((JSON.parse(readFileSync(path, 'utf8')) as DataDirWriter).pid === process.pid) unlinkSync(path);
      } catch {
        // Nothing to give up: the file is gone or was never ours.
      }
    }
  });
};
