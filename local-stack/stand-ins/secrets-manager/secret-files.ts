/**
 * One account's secrets on disk, a file each: the files are the truth, so every read goes to the file (or to
 * this process's write still under way), every write replaces a file whole and atomically, and a second
 * instance over the same directory sees each write. Listing pages over an in-memory index, refreshed
 * whenever the directory changed; a file that does not parse is left out of it with a warning.
 */
import { type BigIntStats, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { link, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Warn } from '../damaged-files';
import { SpareInodes } from '../spare-inodes';
import { removeUnfinishedWrites, temporaryFile } from '../unfinished-writes';
import { DamagedSecretFile, parseStoredSecret, type StoredSecret } from './stored-secret';

/** A directory changed this recently may change again within the same timestamp tick: rescan it. */
const DIR_STAMP_SETTLE_MS = 100;

export class SecretFiles {
  private readonly dir: string;
  private readonly warn: Warn;
  /** Spare inodes for the replaces, in `<dataDir>/secretsmanager/.spares`, beside the accounts' directories. */
  private readonly spares: SpareInodes;
  private readonly index = new Map<string, { stamp: string; secret: StoredSecret }>();
  /** The index sorted per listing order, until the index changes. */
  private readonly sorted = new Map<string, StoredSecret[]>();
  private dirStamp: string | undefined;
  /** Files the listing leaves out because they do not parse, by the stamp they were warned about at. */
  private readonly damaged = new Map<string, string>();
  /**
   * File writes still under way, per file, in call order: the newest content (undefined for a removal) and
   * when it is on disk. Reads see the newest content at once; each call resolves only once its own writes
   * are on disk, so a second instance sees them then. Creates run on libuv's threads, beside the caller's
   * work; changes run on the caller's thread (spare-inodes.ts says why).
   */
  private readonly writing = new Map<string, { secret: StoredSecret | undefined; done: Promise<void> }>();
  /** Writes started by the call running now (calls run synchronously up to their writes). */
  private callWrites: Promise<void>[] = [];

  /** Opens `<dataDir>/secretsmanager/<accountId>/`, removing what writers that are gone left unfinished. */
  constructor(dataDir: string, accountId: string, warn: Warn) {
    this.dir = join(dataDir, 'secretsmanager', accountId);
    this.warn = warn;
    this.spares = new SpareInodes(join(dataDir, 'secretsmanager', '.spares'));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.removeUnfinishedWrites();
  }

  /**
   * Runs one call, synchronous up to its writes, and settles once they are on disk: as the call answered, or
   * failed. A failing call may have written too (a read that purges an expired secret).
   */
  async settle<T extends object>(call: () => T | Promise<T>): Promise<T> {
    this.callWrites = [];
    let answer: T | Promise<T> | undefined;
    let failure: { error: unknown } | undefined;
    try {
      answer = call();
    } catch (error) {
      failure = { error };
    }
    const writes = this.callWrites;
    this.callWrites = [];
    const [output] = await Promise.all([answer, ...writes]);
    if (failure) throw failure.error;
    return output as T;
  }

  /** The secret's newest content: this process's write still under way, else its file; undefined for neither. */
  latest(name: string): StoredSecret | undefined {
    const file = fileOf(name);
    const pending = this.writing.get(file);
    return pending ? pending.secret : this.read(file);
  }

  /** What the secret's file holds, past any write of this process; undefined without a file. */
  onDisk(name: string): StoredSecret | undefined {
    return this.read(fileOf(name));
  }

  /** Creates the secret's file; fails with EEXIST when another process created it since. */
  create(secret: StoredSecret): Promise<void> {
    return this.write(secret, 'create');
  }

  /** Replaces the secret's file; the current call ends once it is on disk. */
  save(secret: StoredSecret): void {
    this.callWrites.push(this.write(secret, 'replace'));
  }

  /** Removes the secret's file; the current call ends once it is gone. */
  remove(name: string): void {
    const file = fileOf(name);
    if (this.index.delete(file)) this.sorted.clear();
    const removal = this.enqueue(file, undefined, async () => {
      try {
        await unlink(join(this.dir, file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    });
    this.callWrites.push(removal);
  }

  /** Removes the spare inodes once the writes under way are on disk; a later write makes new ones. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.writing.values()].map((w) => w.done));
    this.spares.close();
  }

  /** Every readable secret, brought up to date with the directory, in `compare`'s order (kept per `order`). */
  listed(order: string, compare: (a: StoredSecret, b: StoredSecret) => number): StoredSecret[] {
    this.refresh();
    let all = this.sorted.get(order);
    if (!all) {
      all = [...this.index.values()].map((e) => e.secret).sort(compare);
      this.sorted.set(order, all);
    }
    return all;
  }

  private read(file: string): StoredSecret | undefined {
    const path = join(this.dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseStoredSecret(text, path, decodeURIComponent(file.slice(0, -'.json'.length)));
  }

  /**
   * Writes the whole file under a temporary name, then puts it in place: a new secret by link, which fails with
   * EEXIST when another process created that file meanwhile where rename would replace it; a change by rename
   * from a spare inode (spare-inodes.ts). A crash in between leaves the temporary file, named by this process's
   * id for the next opening to remove.
   */
  private write(secret: StoredSecret, how: 'replace' | 'create'): Promise<void> {
    const file = fileOf(secret.name);
    const path = join(this.dir, file);
    const text = `${JSON.stringify(secret, null, 2)}\n`;
    this.index.set(file, { stamp: 'writing', secret });
    this.sorted.clear();
    return this.enqueue(file, secret, async () => {
      const written =
        how === 'create' ? await this.created(path, text) : this.spares.replace(path, text, 0o600);
      const entry = this.index.get(file);
      if (entry?.secret === secret) entry.stamp = stampOf(written);
    });
  }

  /** A new file, put in place by link: EEXIST when another process created it meanwhile. */
  private async created(path: string, text: string): Promise<BigIntStats> {
    const temporary = temporaryFile(this.dir, basename(path));
    try {
      await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
      await link(temporary, path);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    return stat(path, { bigint: true });
  }

  /**
   * Runs a file write after the earlier ones of the same file (a write after one that failed fails too: it
   * built on content that is not on disk). A failed write leaves the file as it was, so the index forgets it.
   */
  private enqueue(file: string, secret: StoredSecret | undefined, write: () => Promise<void>): Promise<void> {
    const previous = this.writing.get(file)?.done ?? Promise.resolve();
    const done = previous.then(write);
    const entry = { secret, done };
    this.writing.set(file, entry);
    const settle = () => {
      if (this.writing.get(file) === entry) this.writing.delete(file);
    };
    const forget = () => {
      settle();
      if (this.index.get(file)?.secret === secret) this.index.delete(file);
      this.sorted.clear();
      this.dirStamp = undefined;
    };
    done.then(settle, forget);
    return done;
  }

  /**
   * Removes the temporary files of writers that are gone (a process killed between writing and renaming):
   * they hold secret values no secret refers to. A live writer's are left alone, this process's included.
   */
  private removeUnfinishedWrites(): void {
    const removed = removeUnfinishedWrites(this.dir);
    if (removed > 0) {
      this.warn(
        `removed ${removed} unfinished secret write(s) from ${this.dir}, left by a process that stopped mid-write; ` +
          'those calls never answered, and their secrets keep the content they had before',
      );
    }
  }

  /** Brings the index up to date with the directory: only files whose inode, size or mtime changed are read. */
  private refresh(): void {
    const dirStat = statSync(this.dir, { bigint: true });
    const stamp = `${dirStat.ino}:${dirStat.mtimeNs}`;
    if (stamp === this.dirStamp) return;
    const seen = new Set<string>();
    const listed = new Set(readdirSync(this.dir));
    for (const file of listed) {
      if (file.startsWith('.') || !file.endsWith('.json')) continue;
      // A file being written is already in the index with its newest content.
      if (this.writing.has(file)) {
        seen.add(file);
        continue;
      }
      let current: string | undefined;
      let secret: StoredSecret | undefined;
      try {
        current = stampOf(statSync(join(this.dir, file), { bigint: true }));
        if (this.index.get(file)?.stamp === current) {
          seen.add(file);
          continue;
        }
        if (this.damaged.get(file) === current) continue;
        secret = this.read(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        if (!(error instanceof DamagedSecretFile) || current === undefined) throw error;
        // One unreadable secret must not hide all the others: list them, and say which one is left out.
        this.damaged.set(file, current);
        this.warn(`ListSecrets leaves out a secret: ${error.message}`);
        continue;
      }
      if (!secret) continue;
      seen.add(file);
      this.damaged.delete(file);
      this.index.set(file, { stamp: current, secret });
      this.sorted.clear();
    }
    for (const file of this.damaged.keys()) if (!listed.has(file)) this.damaged.delete(file);
    for (const file of this.writing.keys()) seen.add(file);
    for (const file of this.index.keys()) {
      if (!seen.has(file)) {
        this.index.delete(file);
        this.sorted.clear();
      }
    }
    const settled = Date.now() - Number(dirStat.mtimeMs) > DIR_STAMP_SETTLE_MS;
    this.dirStamp = settled ? stamp : undefined;
  }
}

function fileOf(name: string): string {
  return `${encodeURIComponent(name)}.json`;
}

/** Whether the process that named a temporary file may still be writing it. */
/** What tells a file's versions apart without reading it. */
function stampOf(s: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}`;
}
