/**
 * The moto harness: one moto_server (an AWS API emulator) on 127.0.0.1 for a jest run, and what a test needs
 * to talk to it. The contract project in jest.config.js starts it in its globalSetup
 * (test/support/moto-global-setup.ts) and stops it by its PID in globalTeardown; a test reads the endpoint with
 * motoEndpoint(). Nothing here ever reaches real AWS: the credentials are fake and the endpoint is always
 * the local server.
 *
 * This module is loaded twice: as CommonJS by jest's globalSetup, as ESM by the tests. It uses no import.meta.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The version the contract suite was written against; scripts/ensure-moto.sh installs it. */
export const MOTO_VERSION = '5.2.1';
/** Set by the globalSetup: `http://127.0.0.1:PORT`. */
export const MOTO_ENDPOINT_VARIABLE = 'MOTO_ENDPOINT';
/** Set by the globalSetup instead of MOTO_ENDPOINT when moto_server could not be started: why. */
export const MOTO_UNAVAILABLE_VARIABLE = 'MOTO_UNAVAILABLE';
/** moto's account when a request names none. */
export const MOTO_DEFAULT_ACCOUNT_ID = '123456789012';
export const MOTO_REGION = 'us-east-1';
/** Static, fake credentials: moto accepts any; they are never valid on AWS. */
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

const HOST = '127.0.0.1';
/** Loaded as CommonJS and as ESM (no import.meta): jest runs from the project's root. */
const PROJECT_ROOT = resolve(process.cwd());
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const INSTALL_HINT = `install it with scripts/ensure-moto.sh (pip install 'moto[server]==${MOTO_VERSION}')`;

export interface MotoServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** The executable, `moto_server` on PATH by default. */
  command?: string;
  /** How long to wait for the first answer (default 60 s: a cold Python start imports a lot). */
  readyTimeoutMs?: number;
}

/** moto_server could not be found or did not come up. */
export class MotoUnavailable extends Error {
  override readonly name = 'MotoUnavailable';
}

/**
 * Starts one moto_server on a free port of 127.0.0.1 and resolves once it answers. The process is killed
 * when this process exits, should stop() never be called.
 */
export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  // scripts/ensure-moto.sh installs into the project's .venv-moto when the system Python refuses pip.
  const venv = join(PROJECT_ROOT, '.venv-moto');
  const local = join(venv, 'bin', 'moto_server');
  const complete = join(venv, `.moto-${MOTO_VERSION}-installed`);
  const command = options.command ?? (existsSync(complete) ? local : 'moto_server');
  const found = spawnSync(command, ['--help'], { stdio: 'ignore', timeout: 60_000 });
  if (found.error || found.status !== 0) {
    const why = found.error ? found.error.message : `\`${command} --help\` exited with ${found.status}`;
    throw new MotoUnavailable(`moto_server is not available (${why}): ${INSTALL_HINT}`);
  }
  let lastError: unknown;
  // A free port may be taken between asking for it and moto binding it: try another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(command, port, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(command: string, port: number, readyTimeoutMs: number): Promise<MotoServer> {
  const child = spawn(command, ['-H', HOST, '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) {
    throw new MotoUnavailable(`moto_server did not start: ${INSTALL_HINT}`);
  }
  // Should stop() never be called: the server goes when this process exits, or is ended by a signal (which
  // skips 'exit'); the signal is then raised again so the process ends as it would have.
  const killOnExit = () => killQuietly(pid, 'SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    killOnExit();
    removeListeners();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const removeListeners = () => {
    process.removeListener('exit', killOnExit);
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  };
  process.once('exit', killOnExit);
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  const stop = async () => {
    removeListeners();
    if (child.exitCode === null && child.signalCode === null) {
      killQuietly(pid, 'SIGTERM');
      const forced = setTimeout(() => killQuietly(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(forced);
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const endpoint = `http://${HOST}:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, readyTimeoutMs, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  child.stdout?.removeListener('data', keep);
  child.stderr?.removeListener('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  return { endpoint, pid, stop };
}

/** Polls moto's own API until it answers; fails at once if the process exits. */
async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new MotoUnavailable(
        `moto_server exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new MotoUnavailable(
        `moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The endpoint of the run's moto_server. Throws (so the test fails, never skips) when the globalSetup could
 * not start it, with the reason, or when the test runs outside the contract project.
 */
export function motoEndpoint(): string {
  const endpoint = process.env[MOTO_ENDPOINT_VARIABLE];
  if (endpoint) return endpoint;
  const unavailable = process.env[MOTO_UNAVAILABLE_VARIABLE];
  throw new MotoUnavailable(
    unavailable ??
      `${MOTO_ENDPOINT_VARIABLE} is not set: run the test in jest's "contract" project (jest.config.js), whose globalSetup starts moto_server`,
  );
}

export interface MotoClientOptions {
  region?: string;
  /** SDK attempts per call (default 1: a contract case wants moto's first answer, not a retried one). */
  maxAttempts?: number;
}

/** What an AWS SDK v3 client needs to talk to moto: `new SecretsManagerClient(motoClientConfig())`. */
export function motoClientConfig(options: MotoClientOptions = {}) {
  return {
    endpoint: motoEndpoint(),
    region: options.region ?? MOTO_REGION,
    credentials: { ...MOTO_CREDENTIALS },
    maxAttempts: options.maxAttempts ?? 1,
  };
}

/** S3 on moto needs path-style addressing (no `<bucket>.127.0.0.1`). */
export function motoS3ClientConfig(options: MotoClientOptions = {}) {
  return { ...motoClientConfig(options), forcePathStyle: true };
}

/** An SDK v3 client: its middleware stack takes the account header. */
interface MiddlewareClient {
  middlewareStack: { add(middleware: never, options: never): void };
}

type BuildHandler = (args: { request: unknown }) => Promise<unknown>;

/**
 * Makes every call of `client` act in moto's account `accountId` (moto's `x-moto-account-id` header). moto
 * keeps one state for all callers, so a test file that takes its own account sees only its own resources,
 * even while other files run in parallel against the same server.
 */
export function inMotoAccount<C extends MiddlewareClient>(client: C, accountId: string): C {
  if (!/^\d{12}$/.test(accountId)) throw new Error(`not an account id: ${accountId}`);
  const middleware =
    (next: BuildHandler): BuildHandler =>
    (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-moto-account-id'] = accountId;
      return next(args);
    };
  const options = { step: 'build', name: 'motoAccount', override: true };
  const add = client.middlewareStack.add as (m: typeof middleware, o: typeof options) => void;
  add.call(client.middlewareStack, middleware, options);
  return client;
}

/** A random 12-digit account id, never moto's default one: one per test file keeps files apart. */
export function uniqueMotoAccountId(): string {
  for (;;) {
    const id = String(randomInt(100_000_000_000, 999_999_999_999));
    if (id !== MOTO_DEFAULT_ACCOUNT_ID) return id;
  }
}

/**
 * The environment for a process (a packaged Lambda handler run in a child process, say) whose SDK clients
 * should reach moto: the SDK reads AWS_ENDPOINT_URL for every service. Such clients act in moto's default
 * account unless the server itself sets MOTO_ACCOUNT_ID.
 */
export function motoEnvironment(options: { region?: string } = {}): Record<string, string> {
  const region = options.region ?? MOTO_REGION;
  return {
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
}
