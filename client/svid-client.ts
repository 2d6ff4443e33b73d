import { Agent, type AgentOptions } from 'node:https';
import { InvalidSvidClientOption, SvidExpired } from './errors';
import { mtlsAgentOptions, type MtlsServer, mtlsServer } from './mtls';
import {
  detectedSource,
  type ExtensionOptions,
  extensionSource,
  type SecretsManagerReader,
  secretsManagerSource,
  type SvidSecretSource,
} from './secret-sources';
import { SpiffeIdAllowList } from './spiffe-id';
import { X509Svid } from './x509-svid';

export interface SvidClientOptions {
  /** The SVID secret's full ARN in the central account (a cross-account read needs the ARN). */
  secretArn: string;
  /**
   * Where the secret is read: `extension` (AWS Parameters and Secrets Lambda Extension),
   * `secrets-manager` (GetSecretValue with the SDK), or `auto` (default): the extension when it
   * listens, else the SDK.
   */
  via?: 'auto' | 'extension' | 'secrets-manager';
  extension?: ExtensionOptions;
  /** The SDK client for `secrets-manager` and `auto`; default `new SecretsManagerClient({})`. */
  secretsManager?: SecretsManagerReader;
  /** Replaces `via`: any other way to read the secret value. */
  source?: SvidSecretSource;
  /** Read a new SVID once less than this is left of the current one; default half its lifetime. */
  refreshBeforeMs?: number;
  /** After a refresh that failed or found no newer SVID, wait this long before trying again; default 5 min. */
  retryAfterMs?: number;
  /** Told of a failed refresh while the cached SVID stays in use (never told the value). */
  onRefreshError?: (error: Error) => void;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

const DEFAULT_RETRY_AFTER_MS = 5 * 60_000;

/**
 * A function's own X509-SVID, read from Secrets Manager and cached until it nears renewal
 * (trust-bridge renews every 12 h an SVID valid 24 h), with mTLS agents and server options built on it.
 * Create one per execution environment, outside the handler.
 */
export class SvidClient {
  readonly #source: SvidSecretSource;
  readonly #secretArn: string;
  readonly #refreshBeforeMs: number | undefined;
  readonly #retryAfterMs: number;
  readonly #onRefreshError: (error: Error) => void;
  readonly #now: () => number;
  #current: X509Svid | undefined;
  /** When the current SVID is next worth replacing. */
  #refreshAt = 0;
  #reading: Promise<X509Svid> | undefined;
  /** Agents for the current SVID, by allow-list. */
  #agents = new Map<string, Agent>();
  #agentsSvid: X509Svid | undefined;

  constructor(options: SvidClientOptions) {
    if (!/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:.+$/.test(options.secretArn) && !options.source) {
      throw new InvalidSvidClientOption(
        `secretArn "${options.secretArn.slice(0, 200)}" is not a Secrets Manager secret ARN; ` +
          'the SVID lives in the central account, which only an ARN reaches',
      );
    }
    for (const [name, value] of [
      ['refreshBeforeMs', options.refreshBeforeMs],
      ['retryAfterMs', options.retryAfterMs],
    ] as const) {
      if (value !== undefined && !(value >= 0))
        throw new InvalidSvidClientOption(`${name} must be 0 or more`);
    }
    this.#secretArn = options.secretArn;
    this.#source = options.source ?? sourceFor(options);
    this.#refreshBeforeMs = options.refreshBeforeMs;
    this.#retryAfterMs = options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    this.#onRefreshError = options.onRefreshError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The current SVID. Read once, then served from memory until it nears renewal; concurrent callers
   * share one read. Never an expired one: throws SvidExpired, SvidUnavailable or SvidSecretInvalid
   * when no valid SVID can be had.
   */
  async svid(): Promise<X509Svid> {
    const now = this.#now();
    const current = this.#current;
    if (current?.isValidAt(now) && now < this.#refreshAt) return current;
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  /**
   * An https.Agent presenting the current SVID that connects only to servers whose SVID is on
   * `allowedServers` (exact SPIFFE IDs, or `spiffe://domain/path/*`). Ask for it per request: the same
   * agent comes back until the SVID is renewed.
   */
  async httpsAgent(allowedServers: readonly string[], agentOptions: AgentOptions = {}): Promise<Agent> {
    const svid = await this.svid();
    if (svid !== this.#agentsSvid) {
      for (const agent of this.#agents.values()) closeIdle(agent);
      this.#agents = new Map();
      this.#agentsSvid = svid;
    }
    const key = JSON.stringify([allowedServers, agentOptions]);
    let agent = this.#agents.get(key);
    if (!agent) {
      const allowList = new SpiffeIdAllowList(allowedServers);
      agent = new Agent({ keepAlive: true, ...agentOptions, ...mtlsAgentOptions(svid, allowList) });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /**
   * Options for an https/tls server presenting the current SVID, and `authorize(socket)` admitting
   * only callers on `allowedClients`. The options hold this SVID: a long-lived server renews them with
   * server.setSecureContext.
   */
  async mtlsServer(allowedClients: readonly string[]): Promise<MtlsServer> {
    return mtlsServer(await this.svid(), new SpiffeIdAllowList(allowedClients));
  }

  /** Closes the agents' kept-alive connections. */
  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  async #read(): Promise<X509Svid> {
    const current = this.#current;
    let fresh: X509Svid;
    try {
      fresh = X509Svid.fromSecret(await this.#source());
    } catch (error) {
      return this.#keepCurrent(error as Error);
    }
    const now = this.#now();
    if (!fresh.isValidAt(now)) {
      return this.#keepCurrent(
        new SvidExpired(
          `the SVID in ${this.#secretArn} (${fresh.spiffeId}) is valid from ${fresh.notBefore.toISOString()} ` +
            `to ${fresh.notAfter.toISOString()}, not now (${new Date(now).toISOString()}): it has not been renewed`,
        ),
      );
    }
    // A cache in front (the extension's) may still hold the one we have, or an older one.
    const best = current?.isValidAt(now) && current.notAfter >= fresh.notAfter ? current : fresh;
    this.#current = best;
    const due = best.notAfter.getTime() - (this.#refreshBeforeMs ?? lifetime(best) / 2);
    this.#refreshAt = due > now ? due : now + this.#retryAfterMs;
    return best;
  }

  /** After a failed read: the cached SVID while it is valid (tried again later), else the failure. */
  #keepCurrent(error: Error): X509Svid {
    const now = this.#now();
    if (!this.#current?.isValidAt(now)) throw error;
    this.#onRefreshError(error);
    this.#refreshAt = now + this.#retryAfterMs;
    return this.#current;
  }
}

function sourceFor(options: SvidClientOptions): SvidSecretSource {
  switch (options.via ?? 'auto') {
    case 'extension':
      return extensionSource(options.secretArn, options.extension);
    case 'secrets-manager':
      return secretsManagerSource(options.secretArn, options.secretsManager);
    case 'auto':
      return detectedSource(options.secretArn, options);
    default:
      throw new InvalidSvidClientOption(`via must be auto, extension or secrets-manager`);
  }
}

const lifetime = (svid: X509Svid): number => svid.notAfter.getTime() - svid.notBefore.getTime();

/** Lets an agent of a replaced SVID go: idle connections close now, busy ones when their request ends. */
function closeIdle(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets))
    for (const socket of sockets ?? []) socket.destroy();
  (agent as Agent & { keepAlive: boolean }).keepAlive = false;
}
