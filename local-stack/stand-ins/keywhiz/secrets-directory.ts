/**
 * The secrets the Keywhiz dev server serves, as files: `<dir>/<service>/<secret-name>`, metadata beside each in
 * `<secret-name>.metadata.json`. Read fresh on every request, so an edited file is served at once; checksummed
 * as Keywhiz does, with a key of the server's, so a checksum changes with the content and reveals nothing of it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidConfiguration } from '../../../functions/shared/domain/errors';
import { KEYWHIZ_NAME_MAX } from '../../../functions/shared/domain/keywhiz';

const METADATA_SUFFIX = '.metadata.json';
/** Names of Keywhiz's own fields: metadata cannot take them. */
const RESERVED_METADATA = new Set([
  'name',
  'secret',
  'secretLength',
  'checksum',
  'creationDate',
  'updateDate',
  'isVersioned',
]);
/** In slices, so a large folder never has thousands of files open at once. */
const FILES_AT_ONCE = 64;

/** One secret file as Keywhiz describes it, without content. */
export interface SecretDescription {
  name: string;
  secretLength: number;
  checksum: string;
  creationDate: string;
  updateDate: string;
  isVersioned: false;
  metadata: Record<string, string>;
}

/** A secret read for delivery; or why there is none: no such secret anywhere, or another service's. */
type SecretRead = { description: SecretDescription; content: Buffer } | 'unknown' | 'denied';

export class SecretsDirectory {
  readonly #dir: string;
  readonly #checksumKey: Buffer;
  /** Checksums by file path, valid while the file's mtime and size are unchanged. */
  readonly #checksums = new Map<string, { mtimeMs: number; size: number; checksum: string }>();

  private constructor(dir: string, checksumKey: Buffer) {
    this.#dir = dir;
    this.#checksumKey = checksumKey;
  }

  /**
   * The directory, with its checksum key kept in `checksumKeyFile` (created 0600 when absent), so checksums
   * survive a restart and a rerun sees unchanged secrets as unchanged; without it, a random key per start.
   */
  static async open(dir: string, checksumKeyFile: string | undefined): Promise<SecretsDirectory> {
    return new SecretsDirectory(
      dir,
      checksumKeyFile ? await persistentKey(checksumKeyFile) : randomBytes(32),
    );
  }

  /** The service's secrets, described with the file's length; none when it has no folder. */
  async list(service: string): Promise<SecretDescription[]> {
    const dir = join(this.#dir, service);
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const names = new Set(entries.map((e) => e.name));
    const secrets = entries.filter((e) => e.isFile() && isSecretName(e.name));
    const listed: SecretDescription[] = [];
    for (let start = 0; start < secrets.length; start += FILES_AT_ONCE) {
      const described = await Promise.all(
        secrets.slice(start, start + FILES_AT_ONCE).map(async ({ name }) => {
          const path = join(dir, name);
          const stats = await regularFile(path);
          if (!stats) return undefined; // removed meanwhile
          const checksum = await this.#cachedChecksum(path, stats);
          const metadata = names.has(name + METADATA_SUFFIX) ? await readMetadata(path) : {};
          return describeFile(name, stats, checksum, metadata);
        }),
      );
      for (const description of described) if (description) listed.push(description);
    }
    return listed;
  }

  async read(service: string, name: string): Promise<SecretRead> {
    // A name no secret can have (a path, "..", a dot file, a sidecar, too long) is unknown, as to Keywhiz: 404.
    // Never joined to a path.
    if (!isSecretName(name)) return 'unknown';
    const path = join(this.#dir, service, name);
    const stats = await regularFile(path);
    if (!stats) return (await this.#ownerElsewhere(service, name)) ? 'denied' : 'unknown';
    const [content, metadata] = await Promise.all([readFile(path), readMetadata(path)]);
    const checksum = this.#checksum(content);
    this.#checksums.set(path, { mtimeMs: stats.mtimeMs, size: content.length, checksum });
    return { description: describeFile(name, stats, checksum, metadata, content.length), content };
  }

  async #ownerElsewhere(service: string, name: string): Promise<boolean> {
    const services = await readdir(this.#dir, { withFileTypes: true }).catch(() => []);
    const others = services.filter((s) => s.isDirectory() && s.name !== service && isPlainName(s.name));
    const held = await Promise.all(others.map((s) => regularFile(join(this.#dir, s.name, name))));
    return held.some(Boolean);
  }

  async #cachedChecksum(path: string, stats: Stats): Promise<string> {
    const cached = this.#checksums.get(path);
    if (cached && cached.mtimeMs === stats.mtimeMs && cached.size === stats.size) return cached.checksum;
    const checksum = this.#checksum(await readFile(path));
    this.#checksums.set(path, { mtimeMs: stats.mtimeMs, size: stats.size, checksum });
    return checksum;
  }

  /** Like Keywhiz: an HMAC with the server's key, upper-case hex, a change token that reveals nothing of the content. */
  #checksum(content: Buffer): string {
    return createHmac('sha256', this.#checksumKey).update(content).digest('hex').toUpperCase();
  }
}

/** A service directory or secret file name that stays inside its directory and is not hidden. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !name.includes('\0') && !name.startsWith('.');
}

/** Dot files and metadata sidecars are not secrets. */
function isSecretName(name: string): boolean {
  return isPlainName(name) && name.length <= KEYWHIZ_NAME_MAX && !name.endsWith(METADATA_SUFFIX);
}

function describeFile(
  name: string,
  stats: Stats,
  checksum: string,
  metadata: Record<string, string>,
  secretLength = stats.size,
): SecretDescription {
  const created = stats.birthtimeMs > 0 ? stats.birthtime : stats.mtime;
  return {
    name,
    secretLength,
    checksum,
    creationDate: created.toISOString(),
    updateDate: stats.mtime.toISOString(),
    isVersioned: false,
    metadata,
  };
}

async function regularFile(path: string): Promise<Stats | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isFile() ? stats : undefined;
}

/**
 * The sidecar beside a secret file: a JSON object of strings, or nothing. Anything else fails the request
 * (a 500, as Keywhiz answers when it cannot build a delivery).
 */
async function readMetadata(secretPath: string): Promise<Record<string, string>> {
  const sidecar = secretPath + METADATA_SUFFIX;
  let text: string;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${sidecar} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${sidecar} is not a JSON object`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`${sidecar}: "${key}" is not a string`);
    if (RESERVED_METADATA.has(key)) throw new Error(`${sidecar}: "${key}" is a Keywhiz field, not metadata`);
  }
  return parsed as Record<string, string>;
}

/** A 32-byte key kept in a file readable by its owner only; created at first use. */
async function persistentKey(path: string): Promise<Buffer> {
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const kept = await readFile(path);
  if (kept.length !== 32) {
    throw new InvalidConfiguration(
      `${path} is not a Keywhiz checksum key (32 bytes); remove it to make a new one`,
    );
  }
  return kept;
}
