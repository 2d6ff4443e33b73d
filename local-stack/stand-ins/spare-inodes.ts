/**
 * Atomic whole-file replaces that neither create nor free an inode. A replace by a new temporary file renamed
 * over the old one creates an inode and frees one; on ext4 without a journal, creating an inode scans past every
 * inode freed in the last minutes (`recently_deleted`), so a run of many replaces slowed down as it went (perf put a
 * fifth of a 10,000-account rotation's CPU there). Here the new content goes into a spare inode, the replaced file is kept
 * under a spare name (a link) and the spare is renamed over the file: the replaced inode is the next spare.
 *
 * A replace is synchronous: on two cores, handing its few small calls to libuv's threads cost the calling thread
 * more than making them (a 10,000-account rotation took 19.8 s instead of 24).
 *
 * The spares live in a directory of their own, named as temporary files (unfinished-writes.ts), so a crash leaves
 * at most spares there, never a torn file in place, and the next opening removes those of writers that are gone.
 */
import {
  type BigIntStats,
  closeSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { removeUnfinishedWrites, temporaryFile } from './unfinished-writes';

export class SpareInodes {
  private readonly spares: string[] = [];
  private made = false;

  /** `dir` holds the spares: on the same filesystem as the files replaced, and apart from them. */
  constructor(private readonly dir: string) {}

  /**
   * Puts `text` in place of `path` (or creates it), atomically. Returns what the file's stat then tells, to
   * know the version written by. The replaced content stays in the spare until the spare is reused or closed.
   */
  replace(path: string, text: string, mode: number): BigIntStats {
    this.open();
    const { spare, stats } = this.filled(Buffer.from(text), mode);
    const retired = temporaryFile(this.dir, 'spare');
    let kept = true;
    try {
      linkSync(path, retired);
    } catch (error) {
      // Nothing to keep: the file is new, or was removed meanwhile.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      kept = false;
    }
    try {
      renameSync(spare, path);
    } catch (error) {
      for (const name of kept ? [spare, retired] : [spare]) removeQuietly(name);
      throw error;
    }
    if (kept) this.spares.push(retired);
    return stats;
  }

  /** Removes the spares; call once no replace is under way. */
  close(): void {
    for (const spare of this.spares.splice(0)) removeQuietly(spare);
  }

  /** Creates the spares' directory and removes what writers that are gone left there, once. */
  private open(): void {
    if (this.made) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    removeUnfinishedWrites(this.dir);
    this.made = true;
  }

  /**
   * A spare holding `data`: one of ours whose only link is ours, else a new file. A spare with another link is
   * not reused: another process replacing the same file at the same moment may keep the same inode as its spare.
   */
  private filled(data: Buffer, mode: number): { spare: string; stats: BigIntStats } {
    for (let spare = this.spares.pop(); spare !== undefined; spare = this.spares.pop()) {
      const fd = openSync(spare, 'r+');
      let reused = false;
      try {
        const { nlink, size } = fstatSync(fd);
        if (nlink === 1) {
          writeAll(fd, data);
          if (size > data.length) ftruncateSync(fd, data.length);
          reused = true;
          return { spare, stats: fstatSync(fd, { bigint: true }) };
        }
      } finally {
        closeSync(fd);
        if (!reused) removeQuietly(spare);
      }
    }
    const spare = temporaryFile(this.dir, 'spare');
    const fd = openSync(spare, 'wx', mode);
    try {
      writeAll(fd, data);
      return { spare, stats: fstatSync(fd, { bigint: true }) };
    } catch (error) {
      removeQuietly(spare);
      throw error;
    } finally {
      closeSync(fd);
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at, at);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
