/**
 * One S3 account's buckets on disk: `<dataDir>/s3/<bucket>/<key>`, the key's `/`-separated parts as folders, so
 * an object is a plain file an operator can read. A part that a file system cannot hold as it is (empty, `.`,
 * `..`, starting with `.`, or holding characters a file name cannot) is percent-encoded; an empty part (a key
 * ending in `/`, as the S3 console's folders) is stored as `%`. Files whose names start with `.` are this store's
 * own temporary files, never objects.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeUnfinishedWrites, temporaryFile } from '../unfinished-writes';

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
  etag: string;
}

const EMPTY_PART = '%';

const encodePart = (part: string): string => {
  if (part === '') return EMPTY_PART;
  const encoded = encodeURIComponent(part).replace(/\*/g, '%2A');
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
};

const decodePart = (name: string): string => (name === EMPTY_PART ? '' : decodeURIComponent(name));

/** S3 lists keys in UTF-8 binary order, which differs from JavaScript's UTF-16 order past the BMP. */
export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class ObjectFiles {
  readonly root: string;

  /** Opens `<dataDir>/s3/`, removing what writers that are gone left unfinished. */
  constructor(dataDir: string) {
    this.root = join(dataDir, 's3');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const dir of this.#folders(this.root)) removeUnfinishedWrites(dir);
  }

  bucketExists(bucket: string): boolean {
    try {
      return statSync(this.#bucketDir(bucket)).isDirectory();
    } catch {
      return false;
    }
  }

  createBucket(bucket: string): void {
    mkdirSync(this.#bucketDir(bucket), { recursive: true, mode: 0o700 });
  }

  pathOf(bucket: string, key: string): string {
    return join(this.#bucketDir(bucket), ...key.split('/').map(encodePart));
  }

  /** The object's content, or undefined when there is none. */
  async read(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(bucket, key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async describe(bucket: string, key: string, content?: Buffer): Promise<StoredObject | undefined> {
    const path = this.pathOf(bucket, key);
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      const body = content ?? (await readFile(path));
      // A Date made here, not fs's own: that one is of Node's realm and fails instanceof Date under jest's vm.
      return { key, size: info.size, lastModified: new Date(info.mtimeMs), etag: etagOf(body) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Replaces the object whole: written aside under a name of this process's, then renamed into place. */
  async write(bucket: string, key: string, body: Buffer): Promise<string> {
    const path = this.pathOf(bucket, key);
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temporary = temporaryFile(dir, path.slice(dir.length + 1));
    try {
      await writeFile(temporary, body, { mode: 0o600, flag: 'wx' });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return etagOf(body);
  }

  async remove(bucket: string, key: string): Promise<void> {
    try {
      await unlink(this.pathOf(bucket, key));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** Every object of the bucket whose key starts with `prefix`, in S3's key order. */
  list(bucket: string, prefix: string): StoredObject[] {
    const objects: StoredObject[] = [];
    const walk = (dir: string, keyParts: string[]) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue;
        const parts = [...keyParts, decodePart(entry.name)];
        const key = parts.join('/');
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          // A folder whose key cannot lead to the prefix is not walked.
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) walk(path, parts);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const info = statSync(path);
          objects.push({ key, size: info.size, lastModified: new Date(info.mtimeMs), etag: '' });
        }
      }
    };
    walk(this.#bucketDir(bucket), []);
    return objects.sort((a, b) => compareKeys(a.key, b.key));
  }

  #bucketDir(bucket: string): string {
    return join(this.root, encodePart(bucket));
  }

  #folders(dir: string): string[] {
    const inner = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => this.#folders(join(dir, entry.name)));
    return [dir, ...inner];
  }
}

/** S3's ETag of a single-part upload: the MD5 of the content, quoted. */
export const etagOf = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;

const isMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
};
