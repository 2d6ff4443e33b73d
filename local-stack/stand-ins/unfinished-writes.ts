/**
 * Whole-file writes put in place by rename, whose temporary file names its writer: `.<file>.<pid>.<random>.tmp`
 * beside the file, the random part beginning with the writing process's incarnation. A process killed between
 * writing and renaming leaves one behind; the next opening of the directory removes those of writers that are
 * gone, whichever process opens it.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

const TEMPORARY_FILE = /^\..+\.(\d+)\.([0-9a-f]{12})\.tmp$/;

/**
 * This process's incarnation, shared with its worker threads (function containers) through their environment
 * data: a pid can come back after a restart, so a temporary file of this pid is this process's own, and a live
 * write of one of its threads, only when it also carries this.
 */
const INCARNATION_KEY = 'trust-bridge:writer-incarnation';
const incarnation = ((): string => {
  const inherited = getEnvironmentData(INCARNATION_KEY);
  if (typeof inherited === 'string') return inherited;
  const made = randomBytes(3).toString('hex');
  setEnvironmentData(INCARNATION_KEY, made);
  return made;
})();

/** A temporary path for the next content of `dir/file`; the incarnation in its name tells it live. */
export function temporaryFile(dir: string, file: string): string {
  return join(dir, `.${file}.${process.pid}.${incarnation}${randomBytes(3).toString('hex')}.tmp`);
}

/** Removes the temporary files in `dir` of writers that are gone; a live writer's are left alone. */
export function removeUnfinishedWrites(dir: string): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const [, writer, random] = TEMPORARY_FILE.exec(name) ?? [];
    if (writer === undefined || random === undefined || writerAlive(Number(writer), random)) continue;
    try {
      unlinkSync(join(dir, name));
      removed += 1;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

function writerAlive(pid: number, random: string): boolean {
  if (pid === process.pid) return random.startsWith(incarnation);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
