import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { Config } from '../../config';
import {
  InvalidConfiguration,
  InvalidKeywhizResponse,
  KeywhizUnavailable,
  SecretAccessDenied,
  TrustBridgeError,
} from '../../domain/errors';
import type { KeywhizSecret, KeywhizSecretInfo } from '../../domain/keywhiz';
import { parseBatchDelivery, parseSecretDelivery, parseSecretListing } from '../../domain/keywhiz-responses';
import { parseSpiffeId } from '../../domain/spiffe-id';
import { spiffeIdOf } from '../../../../client/spiffe/x509-svid';
import type {
  FetchedSecrets,
  KeywhizCredentials,
  KeywhizServerCa,
  SecretSource,
  SecretSourceFactory,
} from './secret-source';
import { type Attempt, type RetryPolicy, retrying } from '../../domain/backoff';

export interface KeywhizClientOptions {
  /** Keywhiz's client API, https only, e.g. https://keywhiz.example.org:4444 */
  baseUrl: string;
  credentials: KeywhizCredentials;
  /**
   * PEM roots Keywhiz's server certificate must chain to: Keywhiz's own CA (KEYWHIZ_SERVER_CA_SECRET). Without it,
   * Node's built-in public roots. Never the SVID bundle: Keywhiz's certificate does not come from the SVID issuer.
   */
  serverCaPem?: string;
  /** Where `serverCaPem` is kept, for errors (default: KEYWHIZ_SERVER_CA_SECRET). */
  serverCaSource?: string;
  /** Called when the server's certificate does not chain to `serverCaPem` (or has the wrong name). */
  onServerNotTrusted?: () => void;
  /** When set, the server must present an SVID with this SPIFFE ID; else its host name is verified. */
  serverSpiffeId?: string;
  /** Per attempt, from connecting to the last byte of the body. */
  timeoutMs: number;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Keywhiz's batch endpoint takes this many names per request. */
const BATCH_SIZE = 100;
/** Keywhiz (Dropwizard) throttling: retried like a 5xx, never a failure of one secret. */
const THROTTLED = 429;
/**
 * The longest Retry-After the client waits. A longer one ends its retries with KeywhizUnavailable, and the wait is
 * left to the workflow's Retry of the whole step, so that one call cannot spend the Lambda's time sleeping.
 */
const RETRY_AFTER_CAP_MS = 5000;
/** A batch of 100 secrets of 64 KB is about 9 MB of base64; anything far beyond is not Keywhiz talking. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Batch answers after which the names are asked for one by one, so that a secret failing on its own fails alone:
 * 404 (one was deleted; the batch is all-or-nothing), 403 (one is not ours any more, and the answer may not say
 * which), 500 (Keywhiz could not build the answer for one of them), or no batch endpoint. A 500 here is not retried:
 * the single requests that follow are.
 */
const BATCH_FALLBACK = new Set([400, 403, 404, 405, 500, 501]);
/** Answers that mean the server has no batch endpoint: later batches go straight to single requests. */
const NO_BATCH_ENDPOINT = new Set([400, 405, 501]);
const NO_ANSWERS = new Set<number>();

/** TLS failures that mean we do not trust the server: retrying cannot help. */
const SERVER_NOT_TRUSTED = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
/** TLS alerts by which the server refuses our client certificate: an authorization failure, not retried. */
const CLIENT_REFUSED =
  /^ERR_SSL_(TLSV1_ALERT_UNKNOWN_CA|TLSV13_ALERT_CERTIFICATE_REQUIRED|TLSV1_ALERT_ACCESS_DENIED|SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_(UNKNOWN|REVOKED|EXPIRED|UNSUPPORTED))$/;

interface Answer {
  status: number;
  body: Buffer;
  /** The Retry-After header, as sent. */
  retryAfter?: string;
}

type CallKind = 'list' | 'batch' | 'single';

/** How one attempt of a call ended: an answer to return, or what went wrong (with the 5xx answer, if one came). */
interface CallOutcome {
  answer?: Answer;
  answered?: Answer;
  last?: string;
}

/**
 * Keywhiz's client API over mTLS with one service's SVID: Keywhiz authorizes by the certificate's SPIFFE ID,
 * so this client can only ever obtain that service's secrets. Content never appears in an error.
 */
export class KeywhizClient implements SecretSource {
  /** Requests sent, retries included (benchmarks compare them with Keywhiz's capacity). */
  readonly calls = { list: 0, batch: 0, single: 0 };
  readonly #origin: string;
  readonly #hostname: string;
  readonly #port: string;
  /** The base URL's path, without its trailing slash, before each endpoint. */
  readonly #prefix: string;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  /** Plain HTTPS with no SDK under it: this is the call's one retry layer (keysync retries 5xx with jitter too). */
  readonly #retries: RetryPolicy;
  readonly #onServerNotTrusted: () => void;
  readonly #serverCaSource: string;
  /** Its certificate chain: who this client is to Keywhiz is read from it only for an error that says so. */
  readonly #certificateChainPem: string;
  #batchUnsupported = false;

  constructor(options: KeywhizClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new InvalidConfiguration('KEYWHIZ_URL: not a URL');
    }
    if (url.protocol !== 'https:')
      throw new InvalidConfiguration('KEYWHIZ_URL: Keywhiz is reached over https://');
    if (!(options.timeoutMs > 0)) throw new InvalidConfiguration('KEYWHIZ_TIMEOUT_MS: must be positive');
    if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
      throw new InvalidConfiguration('KEYWHIZ_MAX_ATTEMPTS: must be a whole number of at least 1');
    }
    this.#origin = url.origin;
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = url.port;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#retries = {
      maxAttempts: options.maxAttempts,
      baseMs: 100,
      capMs: 2000,
      ...(options.sleep && { sleep: options.sleep }),
      ...(options.random && { random: options.random }),
    };
    this.#onServerNotTrusted = options.onServerNotTrusted ?? (() => undefined);
    this.#serverCaSource = options.serverCaSource ?? 'KEYWHIZ_SERVER_CA_SECRET';
    this.#certificateChainPem = options.credentials.certificateChainPem;
    this.#agent = new Agent({
      keepAlive: true,
      secureContext: secureContextOf(options.credentials, options.serverCaPem),
      ...(options.serverSpiffeId && { checkServerIdentity: serverIdentityCheck(options.serverSpiffeId) }),
    });
  }

  async list(): Promise<KeywhizSecretInfo[]> {
    const answer = await this.#call('list', 'GET', '/secrets', 'the listing');
    return parseSecretListing(this.#body(answer, 'GET /secrets', 'the listing'));
  }

  async fetch(names: string[]): Promise<FetchedSecrets> {
    const unique = [...new Set(names)];
    const fetched: FetchedSecrets = { secrets: new Map(), failed: new Map() };
    for (let start = 0; start < unique.length; start += BATCH_SIZE) {
      await this.#fetchBatch(unique.slice(start, start + BATCH_SIZE), fetched);
    }
    return fetched;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #fetchBatch(names: string[], into: FetchedSecrets): Promise<void> {
    if (this.#batchUnsupported) return this.#fetchOneByOne(names, into);
    const subject = `a batch of ${names.length} secrets`;
    const answer = await this.#call(
      'batch',
      'POST',
      '/batchsecret',
      subject,
      { secrets: names },
      BATCH_FALLBACK,
    );
    if (BATCH_FALLBACK.has(answer.status)) {
      if (NO_BATCH_ENDPOINT.has(answer.status)) this.#batchUnsupported = true;
      return this.#fetchOneByOne(names, into);
    }
    let secrets: KeywhizSecret[];
    try {
      secrets = parseBatchDelivery(this.#body(answer, 'POST /batchsecret', subject));
    } catch (error) {
      // A 200 whose body or one entry is malformed spoils the batch, not the other secrets: each is asked for alone.
      const delivered = answer.status >= 200 && answer.status < 300;
      if (delivered && error instanceof InvalidKeywhizResponse) return this.#fetchOneByOne(names, into);
      throw error;
    }
    const requested = new Set(names);
    const returned = new Set(secrets.map((s) => s.name));
    const unasked = [...returned].filter((name) => !requested.has(name));
    const missing = names.filter((name) => !returned.has(name));
    if (unasked.length > 0 || missing.length > 0) {
      throw new InvalidKeywhizResponse(
        `POST /batchsecret: the answer does not match the request (${missing.length} missing, ${unasked.length} not requested${
          missing[0] === undefined ? '' : `, e.g. "${missing[0]}" missing`
        })`,
      );
    }
    for (const secret of secrets) into.secrets.set(secret.name, secret);
  }

  /** Each name on its own: what fails for one name (403, 5xx, a malformed answer) is recorded for that name. */
  async #fetchOneByOne(names: string[], into: FetchedSecrets): Promise<void> {
    for (const name of names) {
      const path = `/secret/${encodeURIComponent(name)}`;
      const subject = `secret "${name}"`;
      const answer = await this.#call('single', 'GET', path, subject, undefined, NO_ANSWERS, true);
      // Listed a moment ago, gone now: deleted.
      if (answer.status === 404) continue;
      try {
        if (answer.status >= 500) {
          throw new KeywhizUnavailable(
            `GET ${this.#prefix}${path} on ${this.#origin}: Keywhiz could not deliver ${subject} (last: HTTP ${answer.status}${errorMessage(answer.body)})`,
          );
        }
        const secret = parseSecretDelivery(this.#body(answer, `GET ${path}`, subject));
        if (secret.name !== name) {
          throw new InvalidKeywhizResponse(
            `GET ${path}: the answer is secret "${secret.name}", not "${name}"`,
          );
        }
        into.secrets.set(name, secret);
      } catch (error) {
        if (answer.status === 401 || !(error instanceof TrustBridgeError)) throw error;
        into.failed.set(name, error);
      }
    }
  }

  /** The JSON body of a successful answer; a refusal names what was refused. */
  #body(answer: Answer, request: string, subject: string): unknown {
    const { status, body } = answer;
    if (status === 401) {
      // Keywhiz authenticated the certificate but maps its SPIFFE ID to no client: nothing will be given to it.
      throw new SecretAccessDenied(
        `Keywhiz at ${this.#origin} knows no client ${clientIdOf(this.#certificateChainPem)} (${request}: HTTP 401): register a client with that SPIFFE ID in Keywhiz`,
      );
    }
    if (status === 403) {
      throw new SecretAccessDenied(`Keywhiz denied ${subject} to this service (${request}: HTTP ${status})`);
    }
    if (status < 200 || status >= 300) {
      throw new InvalidKeywhizResponse(`${request}: Keywhiz answered HTTP ${status}${errorMessage(body)}`);
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new InvalidKeywhizResponse(`${request}: the answer is not JSON`);
    }
  }

  /**
   * One call with bounded retries of 429, 5xx (other than `answers`), timeouts and transport errors, with
   * full-jitter exponential backoff (after a 429, on top of its Retry-After, up to RETRY_AFTER_CAP_MS). Any other
   * status is returned for the caller to judge; so is the last 5xx when `answerLast5xx` (the server answered, it
   * could not serve this one request). A last 429 is not: throttling says nothing about the one request.
   */
  async #call(
    kind: CallKind,
    method: 'GET' | 'POST',
    path: string,
    subject: string,
    payload?: unknown,
    answers: ReadonlySet<number> = NO_ANSWERS,
    answerLast5xx = false,
  ): Promise<Answer> {
    const call = `${method} ${this.#prefix}${path} on ${this.#origin}`;
    const { maxAttempts } = this.#retries;
    const outcome = await retrying(this.#retries, async (attempt): Promise<Attempt<CallOutcome>> => {
      this.calls[kind]++;
      let answer: Answer;
      try {
        answer = await this.#attempt(method, path, payload);
      } catch (error) {
        if (error instanceof TrustBridgeError) throw error;
        return { result: { last: this.#transportFailure(error, subject) }, again: true };
      }
      const throttled = answer.status === THROTTLED;
      if (!throttled && (answer.status < 500 || answers.has(answer.status))) {
        return { result: { answer }, again: false };
      }
      const last = `HTTP ${answer.status}${errorMessage(answer.body)}`;
      if (!throttled) return { result: { answered: answer, last }, again: true };
      const askedToWaitMs = retryAfterMs(answer.retryAfter) ?? 0;
      if (askedToWaitMs > RETRY_AFTER_CAP_MS && attempt < maxAttempts) {
        throw new KeywhizUnavailable(
          `${call}: Keywhiz throttled this service and asks it to wait ${Math.ceil(askedToWaitMs / 1000)} s, more than the ${RETRY_AFTER_CAP_MS / 1000} s a call waits (last: ${last}); the step is retried later`,
        );
      }
      // The jitter comes on top of Retry-After too: agents told the same wait must not all come back at once.
      return { result: { last }, again: true, waitMs: askedToWaitMs };
    });
    if (outcome.answer) return outcome.answer;
    if (outcome.answered && answerLast5xx) return outcome.answered;
    throw new KeywhizUnavailable(
      `${call}: no good answer after ${maxAttempts} attempt${maxAttempts === 1 ? '' : 's'} (last: ${outcome.last})`,
    );
  }

  /**
   * What went wrong with a request that got no answer, for the retry; throws when retrying cannot help: a server
   * we do not trust, or a server that refuses our certificate.
   */
  #transportFailure(error: unknown, subject: string): string {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (SERVER_NOT_TRUSTED.has(code)) {
      this.#onServerNotTrusted();
      const check =
        code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? 'check KEYWHIZ_SERVER_SPIFFE_ID, or the host name in KEYWHIZ_URL'
          : `check ${this.#serverCaSource}: it must hold the CA that signs Keywhiz's certificate, which is not the SVID issuer`;
      throw new InvalidConfiguration(
        `Keywhiz at ${this.#origin} is not trusted: ${(error as Error).message} (${check})`,
        { cause: error },
      );
    }
    if (CLIENT_REFUSED.test(code)) {
      throw new SecretAccessDenied(
        `Keywhiz at ${this.#origin} refused this service's certificate for ${subject} (${code})`,
        { cause: error },
      );
    }
    return code === (error as Error).message ? code : `${code}: ${(error as Error).message}`;
  }

  #attempt(method: string, path: string, payload: unknown): Promise<Answer> {
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (error: Error) => settle(() => reject(error));
      const req = request(
        // Host, port and path apart: a URL string would resolve a secret named ".." out of /secret/.
        {
          hostname: this.#hostname,
          port: this.#port,
          path: `${this.#prefix}${path}`,
          method,
          agent: this.#agent,
          headers: {
            accept: 'application/json',
            ...(body && { 'content-type': 'application/json', 'content-length': body.length }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
            else {
              fail(
                new InvalidKeywhizResponse(`${method} ${path}: the answer is over ${MAX_BODY_BYTES} bytes`),
              );
              req.destroy();
            }
          });
          res.on('end', () =>
            settle(() => {
              const retryAfter = res.headers['retry-after'];
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks),
                ...(retryAfter !== undefined && { retryAfter }),
              });
            }),
          );
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => {
        fail(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' }));
        req.destroy();
      }, this.#timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }
}

/**
 * Builds the source for one service's SVID from the KEYWHIZ_* configuration. `serverCaOf` gives Keywhiz's CA as the
 * agent's account keeps it (on AWS: the agent's own Secrets Manager, whatever the account id).
 */
export function keywhizSecretSource(
  config: Pick<
    Config,
    'KEYWHIZ_URL' | 'KEYWHIZ_SERVER_SPIFFE_ID' | 'KEYWHIZ_TIMEOUT_MS' | 'KEYWHIZ_MAX_ATTEMPTS'
  >,
  serverCaOf: (accountId: string) => KeywhizServerCa,
): SecretSourceFactory {
  if (config.KEYWHIZ_SERVER_SPIFFE_ID) {
    let path: string[];
    try {
      ({ path } = parseSpiffeId(config.KEYWHIZ_SERVER_SPIFFE_ID));
    } catch (error) {
      throw new InvalidConfiguration(`KEYWHIZ_SERVER_SPIFFE_ID: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // The server's certificate is an X509-SVID, whose ID names a workload: a trust domain's own ID never matches.
    if (path.length === 0) {
      throw new InvalidConfiguration(
        `KEYWHIZ_SERVER_SPIFFE_ID: ${config.KEYWHIZ_SERVER_SPIFFE_ID} is a trust domain, not a workload's SPIFFE ID (spiffe://<trust domain>/<path>)`,
      );
    }
  }
  return async (credentials, accountId) => {
    const serverCa = serverCaOf(accountId);
    return new KeywhizClient({
      baseUrl: config.KEYWHIZ_URL,
      credentials,
      serverCaPem: await serverCa.pem(),
      serverCaSource: serverCa.source,
      onServerNotTrusted: () => serverCa.forget(),
      ...(config.KEYWHIZ_SERVER_SPIFFE_ID && { serverSpiffeId: config.KEYWHIZ_SERVER_SPIFFE_ID }),
      timeoutMs: config.KEYWHIZ_TIMEOUT_MS,
      maxAttempts: config.KEYWHIZ_MAX_ATTEMPTS,
    });
  };
}

/** The SPIFFE ID of the chain's leaf, or a phrase saying it has none (Keywhiz will not know it either). */
function clientIdOf(certificateChainPem: string): string {
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(certificateChainPem)?.[0];
  try {
    return leaf ? spiffeIdOf(leaf) : 'without a certificate';
  } catch {
    return 'without one SPIFFE ID in its certificate';
  }
}

/**
 * TLS contexts by credentials and server CA: building one (parsing the key and certificates) was the largest part
 * of an agent run with nothing to sync. A warm Lambda container, or the embedded default's agents across runs,
 * reuses its own; an SVID renewed or a CA replaced is another entry. The oldest go beyond the bound, which holds
 * every agent of a 10,000-account embedded default with a third of them secret-enabled (about 15 KB each).
 */
const secureContexts = new Map<string, SecureContext>();
const MAX_SECURE_CONTEXTS = 5_000;

function secureContextOf(credentials: KeywhizCredentials, serverCaPem: string | undefined): SecureContext {
  const key = createHash('sha256')
    .update(credentials.certificateChainPem)
    .update('\0')
    .update(credentials.privateKeyPem)
    .update('\0')
    .update(serverCaPem ?? '')
    .digest('base64');
  let context = secureContexts.get(key);
  if (context) {
    secureContexts.delete(key);
  } else {
    context = createSecureContext({
      cert: credentials.certificateChainPem,
      key: credentials.privateKeyPem,
      ...(serverCaPem !== undefined && { ca: serverCaPem }),
    });
    if (secureContexts.size >= MAX_SECURE_CONTEXTS) {
      secureContexts.delete(secureContexts.keys().next().value as string);
    }
  }
  secureContexts.set(key, context);
  return context;
}

/** The last server certificate checked and its SPIFFE ID: every connection to one Keywhiz presents the same. */
let lastServer: { raw: Buffer; spiffeId: string } | undefined;

/** SVIDs name workloads, not hosts: the server is verified by the SPIFFE ID in its one URI SAN. */
function serverIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    let actual: string;
    try {
      if (!lastServer?.raw.equals(cert.raw)) lastServer = { raw: cert.raw, spiffeId: spiffeIdOf(cert.raw) };
      actual = lastServer.spiffeId;
    } catch (error) {
      actual = `a certificate without one SPIFFE ID (${(error as Error).message})`;
    }
    if (actual === expected) return undefined;
    return Object.assign(new Error(`the server is ${actual}, expected ${expected}`), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  };
}

/** A Retry-After header in milliseconds from now: delta-seconds or an HTTP date; undefined if absent or unreadable. */
function retryAfterMs(header: string | undefined): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The `message` of a Dropwizard error body ({"code":…, "message":…}), short; never the body itself. */
function errorMessage(body: Buffer): string {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const message = (parsed as { message?: unknown } | null)?.message;
    return typeof message === 'string' && message ? ` "${message.slice(0, 200)}"` : '';
  } catch {
    return '';
  }
}
