/**
 * The Keywhiz dev server: Keywhiz's client API over HTTPS with mutual TLS, its routes, and the hooks tests and
 * the chaos bench use to watch and disturb it. What it answers, whom, and from where live beside it.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SoftwareCertificateAuthority } from '../software-ca/software-ca';
import { allow, batchNames, deliverAll, HttpError, listing, readBody } from './answers';
import { callerService, type ServiceOf } from './client-authorization';
import { SecretsDirectory } from './secrets-directory';
import { ownCaCertificate, svidCertificate } from './server-certificate';

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
  serviceOf: ServiceOf;
  host?: string;
  /** 0: an ephemeral port. */
  port?: number;
  /**
   * Where the checksum key is kept (created 0600 when absent), so checksums survive a restart and a
   * rerun sees unchanged secrets as unchanged. Without it the key is random per start.
   */
  checksumKeyFile?: string;
}

/** A request the dev server is about to answer, as `beforeAnswer` sees it: its caller authorized, its names read. */
export interface KeywhizRequestSeen {
  endpoint: 'list' | 'batch' | 'single';
  service: string;
  /** The names asked for (none for a listing). */
  names: string[];
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
  readonly #directory: SecretsDirectory;
  readonly #serviceOf: ServiceOf;

  private constructor(
    server: Server,
    url: string,
    identity: { spiffeId: string; caPem: string },
    directory: SecretsDirectory,
    serviceOf: ServiceOf,
  ) {
    this.#server = server;
    this.url = url;
    this.spiffeId = identity.spiffeId;
    this.caPem = identity.caPem;
    this.#directory = directory;
    this.#serviceOf = serviceOf;
  }

  static async start(options: KeywhizDevServerOptions): Promise<KeywhizDevServer> {
    const spiffeId = `spiffe://${options.trustDomain}/keywhiz`;
    const host = options.host ?? '127.0.0.1';
    const [serverCertificate, bundle, directory] = await Promise.all([
      options.serverCertificate === 'svid'
        ? svidCertificate(options.ca, spiffeId)
        : ownCaCertificate(options.caDir, spiffeId, host),
      options.ca.bundle(),
      SecretsDirectory.open(options.dir, options.checksumKeyFile),
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
      directory,
      options.serviceOf,
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
      const service = await callerService(req, this.#serviceOf);
      await this.#intercept({ endpoint: 'list', service, names: [] });
      return listing(this.#directory, service);
    }
    if (path === '/batchsecret') {
      this.requests.batch++;
      allow(method, 'POST');
      const service = await callerService(req, this.#serviceOf);
      const names = batchNames(await readBody(req));
      await this.#intercept({ endpoint: 'batch', service, names });
      return deliverAll(this.#directory, service, names);
    }
    if (path.startsWith('/secret/')) {
      this.requests.single++;
      allow(method, 'GET');
      const service = await callerService(req, this.#serviceOf);
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/secret/'.length));
      } catch {
        throw new HttpError(400, 'the secret name is not URL-encoded properly');
      }
      await this.#intercept({ endpoint: 'single', service, names: [name] });
      const [secret] = await deliverAll(this.#directory, service, [name]);
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
}
