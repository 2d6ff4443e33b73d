import { createHmac, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { InvalidConfiguration } from '../../functions/shared/domain/errors';
import { KEYWHIZ_NAME_MAX } from '../../functions/shared/domain/keywhiz';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { spiffeIdOf } from '../../functions/shared/domain/svid-rules';
import type { SoftwareCertificateAuthority } from './software-ca';

export interface KeywhizDevServerOptions {
  /** Secrets as files: `<dir>/<service>/<secret-name>`, metadata in `<secret-name>.metadata.json`. */
  dir: string;
  /** Issues the server's own SVID; client certificates must chain to its bundle. */
  ca: SoftwareCertificateAuthority;
  trustDomain: string;
  /** The service a client SPIFFE ID stands for; undefined: an unknown client, refused everything. */
  serviceOf: (spiffeId: string) => string | undefined | Promise<string | undefined>;
  host?: string;
  /** 0: an ephemeral port. */
  port?: number;
  /**
   * Where the checksum key is kept (created 0600 when absent), so checksums survive a restart and a
   * rerun sees unchanged secrets as unchanged. Without it the key is random per start.
   */
  checksumKeyFile?: string;
}

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
const MAX_REQUEST_BYTES = 1024 * 1024;
const FILES_AT_ONCE = 64;

/** One secret file as Keywhiz describes it, without content. */
interface SecretDescription {
  name: string;
  secretLength: number;
  checksum: string;
  creationDate: string;
  updateDate: string;
  isVersioned: false;
  metadata: Record<string, string>;
}

/** An answer with a Dropwizard-style error body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Keywhiz's client API at home, fed from a directory: mTLS with SVIDs from the software CA, each client
 * mapped by its SPIFFE ID to one service, which sees only its own secrets. The JSON shapes, 403 and 404
 * are Keywhiz's. Files are read fresh on every request, so an edited file is served at once.
 */
export class KeywhizDevServer {
  readonly url: string;
  readonly spiffeId: string;
  /** Requests received per endpoint, and refusals (403) among them. */
  readonly requests = { list: 0, batch: 0, single: 0, denied: 0 };
  readonly #server: Server;
  readonly #dir: string;
  readonly #checksumKey: Buffer;
  readonly #serviceOf: KeywhizDevServerOptions['serviceOf'];
  /** Checksums by file path, valid while the file's mtime and size are unchanged. */
  readonly #checksums = new Map<string, { mtimeMs: number; size: number; checksum: string }>();

  private constructor(
    server: Server,
    url: string,
    spiffeId: string,
    options: KeywhizDevServerOptions,
    key: Buffer,
  ) {
    this.#server = server;
    this.url = url;
    this.spiffeId = spiffeId;
    this.#dir = options.dir;
    this.#serviceOf = options.serviceOf;
    this.#checksumKey = key;
  }

  static async start(options: KeywhizDevServerOptions): Promise<KeywhizDevServer> {
    const spiffeId = `spiffe://${options.trustDomain}/keywhiz`;
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const [issued, bundle, checksumKey] = await Promise.all([
      options.ca.issue({ csrPem, spiffeId, notBefore: new Date(Date.now() - 60_000) }),
      options.ca.bundle(),
      options.checksumKeyFile ? persistentKey(options.checksumKeyFile) : randomBytes(32),
    ]);
    let handle: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const server = createServer(
      {
        key: privateKeyPem,
        cert: [issued.certificatePem, ...issued.chainPem].join('\n'),
        ca: bundle,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => handle(req, res),
    );
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const devServer = new KeywhizDevServer(server, url, spiffeId, options, checksumKey);
    handle = (req, res) => void devServer.#answer(req, res);
    return devServer;
  }

  /** Stops listening and closes idle keep-alive connections, so the process can exit. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) =>
      this.#server.close((error) => (error ? reject(error) : resolve())),
    );
    this.#server.closeIdleConnections();
    await closed;
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200;
    let body: unknown;
    try {
      body = await this.#route(req);
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      if (status === 403) this.requests.denied++;
      body = { code: status, message: (error as Error).message };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  async #route(req: IncomingMessage): Promise<unknown> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/secrets') {
      this.requests.list++;
      allow(method, 'GET');
      return this.#list(await this.#service(req));
    }
    if (path === '/batchsecret') {
      this.requests.batch++;
      allow(method, 'POST');
      const service = await this.#service(req);
      return this.#deliverAll(service, batchNames(await readBody(req)));
    }
    if (path.startsWith('/secret/')) {
      this.requests.single++;
      allow(method, 'GET');
      const service = await this.#service(req);
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/secret/'.length));
      } catch {
        throw new HttpError(400, 'the secret name is not URL-encoded properly');
      }
      const [secret] = await this.#deliverAll(service, [name]);
      return secret;
    }
    throw new HttpError(404, 'HTTP 404 Not Found');
  }

  /** The caller's service, from the one SPIFFE ID in its (already verified) client certificate. */
  async #service(req: IncomingMessage): Promise<string> {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    let spiffeId: string | undefined;
    try {
      spiffeId = peer && spiffeIdOf(peer.raw);
    } catch {
      spiffeId = undefined;
    }
    const service = spiffeId && (await this.#serviceOf(spiffeId));
    if (!service || !isPlainName(service)) {
      throw new HttpError(403, `client ${spiffeId ?? 'without a SPIFFE ID'} is not a Keywhiz client here`);
    }
    return service;
  }

  async #list(service: string): Promise<unknown[]> {
    const dir = join(this.#dir, service);
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const names = new Set(entries.map((e) => e.name));
    const secrets = entries.filter((e) => e.isFile() && isSecretName(e.name));
    const listing: unknown[] = [];
    // In slices, so a large folder never has thousands of files open at once.
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
      for (const description of described) if (description) listing.push(deliveryResponse(description, ''));
    }
    return listing;
  }

  /** Keywhiz's all-or-nothing delivery: 404 when any name is unknown, 403 when any is another service's. */
  async #deliverAll(service: string, names: string[]): Promise<unknown[]> {
    const found = await Promise.all(names.map((name) => this.#read(service, name)));
    const unknown = names.filter((_, i) => found[i] === 'unknown');
    if (unknown.length > 0) throw new HttpError(404, `Secret not found: ${unknown.join(', ')}`);
    const denied = names.filter((_, i) => found[i] === 'denied');
    if (denied.length > 0) throw new HttpError(403, `Access denied to secret: ${denied.join(', ')}`);
    return found.map((secret) => {
      const { description, content } = secret as { description: SecretDescription; content: Buffer };
      return deliveryResponse(description, content.toString('base64'));
    });
  }

  async #read(
    service: string,
    name: string,
  ): Promise<{ description: SecretDescription; content: Buffer } | 'unknown' | 'denied'> {
    if (!isSecretName(name)) {
      if (name.includes('/') || name === '..' || name.length === 0 || name.length > KEYWHIZ_NAME_MAX) {
        throw new HttpError(400, 'invalid secret name');
      }
      return 'unknown';
    }
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

  /** Like Keywhiz: an HMAC with the server's key, a change token that reveals nothing of the content. */
  #checksum(content: Buffer): string {
    return createHmac('sha256', this.#checksumKey).update(content).digest('hex');
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new HttpError(405, 'HTTP 405 Method Not Allowed');
}

/** A service directory or secret file name that stays inside its directory and is not hidden. */
function isPlainName(name: string): boolean {
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

/** Keywhiz's SecretDeliveryResponse: metadata flattened into the top level. */
function deliveryResponse(
  { metadata, ...fields }: SecretDescription,
  secret: string,
): Record<string, unknown> {
  return {
    name: fields.name,
    secret,
    secretLength: fields.secretLength,
    checksum: fields.checksum,
    creationDate: fields.creationDate,
    updateDate: fields.updateDate,
    isVersioned: fields.isVersioned,
    ...metadata,
  };
}

async function regularFile(path: string): Promise<Stats | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isFile() ? stats : undefined;
}

/** The sidecar beside a secret file: a JSON object of strings, or nothing. */
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
    throw new HttpError(500, `${sidecar} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(500, `${sidecar} is not a JSON object`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new HttpError(500, `${sidecar}: "${key}" is not a string`);
    if (RESERVED_METADATA.has(key))
      throw new HttpError(500, `${sidecar}: "${key}" is a Keywhiz field, not metadata`);
  }
  return parsed as Record<string, string>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `{"secrets": ["name", …]}`, as Keywhiz's BatchSecretRequest. */
function batchNames(body: Buffer): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  const secrets = (parsed as { secrets?: unknown } | null)?.secrets;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string')) {
    throw new HttpError(400, 'secrets: a non-empty array of secret names is required');
  }
  return secrets as string[];
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
