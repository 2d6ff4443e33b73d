import 'reflect-metadata';
import { createHmac, randomBytes, type webcrypto } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import * as x509 from '@peculiar/x509';
import type { SecretsManagerApi } from '../../functions/shared/aws/clients';
import { transient } from '../../functions/shared/aws/secrets-manager-calls';
import { InvalidConfiguration } from '../../functions/shared/domain/errors';
import { KEYWHIZ_NAME_MAX } from '../../functions/shared/domain/keywhiz';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { spiffeIdOf } from '../../functions/shared/domain/svid-rules';
import type { SoftwareCertificateAuthority } from './software-ca';

export interface KeywhizDevServerOptions {
  /** Secrets as files: `<dir>/<service>/<secret-name>`, metadata in `<secret-name>.metadata.json`. */
  dir: string;
  /** Client certificates must chain to its bundle (Keywhiz's client truststore: the SVID issuer's root). */
  ca: SoftwareCertificateAuthority;
  /**
   * Where the server's certificate comes from. 'own-ca' (the default, as a real Keywhiz): a CA of the dev server's
   * own, which has nothing to do with the SVID issuer. 'svid': an X509-SVID from `ca`, so the SVID bundle verifies it.
   */
  serverCertificate?: 'own-ca' | 'svid';
  /**
   * Where the own CA's key and certificate are kept (key 0600, created when absent), so its clients' trust survives a
   * restart. Without it the CA is new per start.
   */
  caDir?: string;
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

/** A request the dev server is about to answer, as `beforeAnswer` sees it: its caller authorized, its names read. */
export interface KeywhizRequestSeen {
  endpoint: 'list' | 'batch' | 'single';
  service: string;
  /** The names asked for (none for a listing). */
  names: string[];
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
 * Keywhiz's client API at home, fed from a directory: mTLS with client SVIDs from the software CA, each client
 * mapped by its SPIFFE ID to one service, which sees only its own secrets. It answers as Keywhiz does: 401 for a
 * certificate whose SPIFFE ID is no client, listings with `secret: ""` and `secretLength: 0`, upper-case hex
 * checksums, 404 for unknown and impossible names, 403 for another service's secret, batches all-or-nothing (404 at
 * the first missing name, 403 naming the forbidden ones, each secret once, an empty one refused). Its own
 * certificate comes from its own CA (`caPem`), as a real Keywhiz's does. Files are read fresh on every request, so
 * an edited file is served at once.
 */
export class KeywhizDevServer {
  readonly url: string;
  /** The SPIFFE ID in the server certificate's URI SAN. */
  readonly spiffeId: string;
  /** The PEM bundle that verifies the server's certificate: its own CA's (or the SVID bundle, in 'svid' mode). */
  readonly caPem: string;
  /** Requests received per endpoint, and refusals among them: 403 (denied) and 401 (unknown client). */
  readonly requests = { list: 0, batch: 0, single: 0, denied: 0, unauthorized: 0 };
  /**
   * Unset in normal use. A test sets it to act between two requests (unassign a secret after the listing) or to
   * answer a status instead of the content (a 500 for one secret, as Keywhiz gives when it cannot build a delivery).
   */
  beforeAnswer: ((request: KeywhizRequestSeen) => void | number | Promise<void | number>) | undefined;
  readonly #server: Server;
  readonly #dir: string;
  readonly #checksumKey: Buffer;
  readonly #serviceOf: KeywhizDevServerOptions['serviceOf'];
  /** Checksums by file path, valid while the file's mtime and size are unchanged. */
  readonly #checksums = new Map<string, { mtimeMs: number; size: number; checksum: string }>();

  private constructor(
    server: Server,
    url: string,
    identity: { spiffeId: string; caPem: string },
    options: KeywhizDevServerOptions,
    key: Buffer,
  ) {
    this.#server = server;
    this.url = url;
    this.spiffeId = identity.spiffeId;
    this.caPem = identity.caPem;
    this.#dir = options.dir;
    this.#serviceOf = options.serviceOf;
    this.#checksumKey = key;
  }

  static async start(options: KeywhizDevServerOptions): Promise<KeywhizDevServer> {
    const spiffeId = `spiffe://${options.trustDomain}/keywhiz`;
    const host = options.host ?? '127.0.0.1';
    const [serverCertificate, bundle, checksumKey] = await Promise.all([
      options.serverCertificate === 'svid'
        ? svidCertificate(options.ca, spiffeId)
        : ownCaCertificate(options.caDir, spiffeId, host),
      options.ca.bundle(),
      options.checksumKeyFile ? persistentKey(options.checksumKeyFile) : randomBytes(32),
    ]);
    let handle: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const server = createServer(
      {
        key: serverCertificate.privateKeyPem,
        cert: serverCertificate.certificatePem,
        // Keywhiz's client truststore: the SVID issuer's root.
        ca: bundle,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => handle(req, res),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const devServer = new KeywhizDevServer(
      server,
      url,
      { spiffeId, caPem: serverCertificate.caPem },
      options,
      checksumKey,
    );
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
      if (status === 401) this.requests.unauthorized++;
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
      const service = await this.#service(req);
      await this.#intercept({ endpoint: 'list', service, names: [] });
      return this.#list(service);
    }
    if (path === '/batchsecret') {
      this.requests.batch++;
      allow(method, 'POST');
      const service = await this.#service(req);
      const names = batchNames(await readBody(req));
      await this.#intercept({ endpoint: 'batch', service, names });
      return this.#deliverAll(service, names);
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
      await this.#intercept({ endpoint: 'single', service, names: [name] });
      const [secret] = await this.#deliverAll(service, [name]);
      return secret;
    }
    throw new HttpError(404, 'HTTP 404 Not Found');
  }

  async #intercept(request: KeywhizRequestSeen): Promise<void> {
    const status = await this.beforeAnswer?.(request);
    if (status !== undefined) {
      throw new HttpError(status, 'There was an error processing your request. It has been logged.');
    }
  }

  /**
   * The caller's service, from the one SPIFFE ID in its (already verified) client certificate. A certificate whose
   * SPIFFE ID maps to no client is authenticated but unknown: 401, as Keywhiz answers.
   */
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
      throw new HttpError(401, `client ${spiffeId ?? 'without a SPIFFE ID'} is not a Keywhiz client here`);
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
      // As Keywhiz lists: no content, and a length of 0 whatever the content's.
      for (const description of described)
        if (description) listing.push(deliveryResponse({ ...description, secretLength: 0 }, ''));
    }
    return listing;
  }

  /**
   * Keywhiz's all-or-nothing delivery: 404 at the first unknown name, 403 naming every name that is another
   * service's; each secret once, however often it was asked for.
   */
  async #deliverAll(service: string, asked: string[]): Promise<unknown[]> {
    const names = [...new Set(asked)];
    const found = await Promise.all(names.map((name) => this.#read(service, name)));
    const unknown = names.find((_, i) => found[i] === 'unknown');
    if (unknown !== undefined) throw new HttpError(404, `Secret not found: ${unknown}`);
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

/** The server's key and certificate, and the PEM that verifies the certificate. */
interface ServerCertificate {
  privateKeyPem: string;
  certificatePem: string;
  caPem: string;
}

/** An X509-SVID from the SVID issuer: clients then verify the server with the SVID bundle. */
async function svidCertificate(
  ca: SoftwareCertificateAuthority,
  spiffeId: string,
): Promise<ServerCertificate> {
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const [issued, bundle] = await Promise.all([
    ca.issue({ csrPem, spiffeId, notBefore: new Date(Date.now() - 60_000) }),
    ca.bundle(),
  ]);
  return {
    privateKeyPem,
    certificatePem: [issued.certificatePem, ...issued.chainPem].join('\n'),
    caPem: bundle.join('\n'),
  };
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_KEY_FILE = 'ca.key';
const CA_CERT_FILE = 'ca.pem';
const DAY_MS = 24 * 3600 * 1000;

/**
 * A server certificate from the dev server's own CA, as a real Keywhiz has one from its operators' CA: a TLS
 * server certificate for the host it listens on (DNS localhost, its IP), carrying the SPIFFE ID as its URI SAN so
 * that KEYWHIZ_SERVER_SPIFFE_ID can be checked too. A new key and certificate per start; the CA is kept in `caDir`.
 */
async function ownCaCertificate(
  caDir: string | undefined,
  spiffeId: string,
  host: string,
): Promise<ServerCertificate> {
  const ca = await keywhizCa(caDir);
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const addresses = [...new Set(['127.0.0.1', '::1', ...(isIP(host) ? [host] : [])])];
  const dnsNames = [...new Set(['localhost', ...(isIP(host) ? [] : [host])])];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost, O=Keywhiz dev server',
    issuer: ca.certificate.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...addresses.map((value) => ({ type: 'ip' as const, value })),
        { type: 'url', value: spiffeId },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return {
    privateKeyPem: x509.PemConverter.encode(
      await crypto.subtle.exportKey('pkcs8', keys.privateKey),
      'PRIVATE KEY',
    ),
    certificatePem: certificate.toString('pem'),
    caPem: `${ca.certificate.toString('pem')}\n`,
  };
}

/** The dev server's own root CA: loaded from `dir`, or created (there, when given). */
async function keywhizCa(
  dir: string | undefined,
): Promise<{ certificate: x509.X509Certificate; privateKey: webcrypto.CryptoKey }> {
  if (dir) {
    const [keyPem, certPem] = await Promise.all([
      readFile(join(dir, CA_KEY_FILE), 'utf8').catch(absent),
      readFile(join(dir, CA_CERT_FILE), 'utf8').catch(absent),
    ]);
    if (keyPem !== undefined && certPem !== undefined) {
      const privateKey = await crypto.subtle.importKey(
        'pkcs8',
        x509.PemConverter.decodeFirst(keyPem),
        KEY_ALGORITHM,
        false,
        ['sign'],
      );
      return { certificate: new x509.X509Certificate(certPem), privateKey };
    }
    if (keyPem !== undefined || certPem !== undefined) {
      throw new InvalidConfiguration(
        `the Keywhiz dev server CA in ${dir} has only one of ${CA_KEY_FILE} and ${CA_CERT_FILE}; remove the other to create a new CA`,
      );
    }
  }
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Keywhiz dev server CA ${randomBytes(4).toString('hex')}, O=Keywhiz dev server`,
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  if (dir) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keyPem = x509.PemConverter.encode(
      await crypto.subtle.exportKey('pkcs8', keys.privateKey),
      'PRIVATE KEY',
    );
    // 'wx': never overwrite a CA another process created meanwhile; the certificate lands by rename.
    await writeFile(join(dir, CA_KEY_FILE), keyPem, { mode: 0o600, flag: 'wx' });
    const pending = join(dir, `${CA_CERT_FILE}.${process.pid}.tmp`);
    await writeFile(pending, certificate.toString('pem'), { mode: 0o644 });
    await rename(pending, join(dir, CA_CERT_FILE));
  }
  return { certificate, privateKey: keys.privateKey };
}

const absent = (error: NodeJS.ErrnoException): undefined => {
  if (error.code === 'ENOENT') return undefined;
  throw error;
};

/** A positive serial number, 16 random bytes, as hex. */
const randomSerial = (): string => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
};

/** Marks the CA secret the local stack wrote itself, so a later start may replace it; any other value is left alone. */
export const DEV_SERVER_CA_TAG = 'trust-bridge:keywhiz-dev-server-ca';

/**
 * Gives an account's Secrets Manager the dev server's CA under `secretName`, as the onboarding stack gives a real
 * account Keywhiz's CA: created when absent, replaced when it holds an earlier dev server CA written here, left
 * alone when someone else put a value there (a test's wrong CA, a real Keywhiz's CA for a KEYWHIZ_URL at home).
 */
export async function ensureDevServerCa(
  secretsManager: SecretsManagerApi,
  secretName: string,
  caPem: string,
): Promise<void> {
  // Throttling becomes StoreThrottled, which the workflow retries, as for the agent's own calls.
  try {
    await transient('CreateSecret', () =>
      secretsManager.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: "The CA of the Keywhiz dev server's certificate (trust-bridge local stack)",
          SecretString: caPem,
          Tags: [{ Key: DEV_SERVER_CA_TAG, Value: 'true' }],
        }),
      ),
    );
    return;
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceExistsException') throw error;
  }
  const described = await transient('DescribeSecret', () =>
    secretsManager.send(new DescribeSecretCommand({ SecretId: secretName })),
  );
  if (!(described.Tags ?? []).some((t) => t.Key === DEV_SERVER_CA_TAG)) return;
  const current = await transient('GetSecretValue', () =>
    secretsManager.send(new GetSecretValueCommand({ SecretId: secretName })),
  ).catch(() => undefined);
  if (current?.SecretString === caPem) return;
  await transient('PutSecretValue', () =>
    secretsManager.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: caPem })),
  );
}
