/**
 * Whole-file writes put in place by rename, whose temporary file names its writer: `.<file>.<pid>.<random>.tmp`
 * beside the file. A process killed between writing and renaming leaves one behind; the next opening of the
 * directory removes those of writers that are gone, whichever process opens it.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const TEMPORARY_FILE = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** Temporary files this process is writing: a pid can come back after a restart, so its own are known by name. */
const writingHere = new Set<string>();

/** A temporary path for the next content of `dir/file`; `done()` once it is renamed or removed. */
export function temporaryFile(dir: string, file: string): { path: string; done: () => void } {
  const path = join(dir, `.${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  writingHere.add(path);
  return { path, done: () => writingHere.delete(path) };
}

/** Removes the temporary files in `dir` of writers that are gone; a live writer's are left alone. */
export function removeUnfinishedWrites(dir: string): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const writer = TEMPORARY_FILE.exec(name)?.[1];
    const path = join(dir, name);
    if (writer === undefined || writerAlive(Number(writer), path)) continue;
    try {
      unlinkSync(path);
      removed += 1;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

function writerAlive(pid: number, temporary: string): boolean {
  if (pid === process.pid) return writingHere.has(temporary);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
