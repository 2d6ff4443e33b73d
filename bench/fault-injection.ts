import { SDK_MAX_ATTEMPTS } from '../functions/shared/aws/clients';
import type { KeywhizDevServer } from '../local-stack/stack';

/** What a chaos run injects per call: the shares of calls throttled, failed with a 5xx, and timed out. */
export interface FaultRates {
  throttle: number;
  serverError: number;
  timeout: number;
}

export const CHAOS_RATES: FaultRates = { throttle: 0.3, serverError: 0.1, timeout: 0.02 };

type Fault = keyof FaultRates;
export type FaultedService = 'ca' | 'secretsManager' | 'eventBridge' | 'keywhiz';

/** A small seeded generator (mulberry32). */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** Error names as each service gives them, for a throttle and for a server fault. */
const ERROR_NAMES: Record<Exclude<FaultedService, 'keywhiz'>, Record<'throttle' | 'serverError', string>> = {
  ca: { throttle: 'ThrottlingException', serverError: 'InternalFailure' },
  secretsManager: { throttle: 'ThrottlingException', serverError: 'InternalServiceError' },
  eventBridge: { throttle: 'ThrottlingException', serverError: 'InternalException' },
};

/** FNV-1a: a call key as 32 bits. */
const hash = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * What a call is about, so the same call draws the same fault in every run of a seed: the operation and the
 * secret it names. Calls that name none (IssueCertificate, PutEvents) share a key per operation, so which of them
 * draws a fault still depends on their order.
 */
const callKey = (command: unknown): string => {
  const input = (command as { input?: Record<string, unknown> }).input ?? {};
  const target = String(input.SecretId ?? input.Name ?? input.CertificateArn ?? '');
  // A secret's ARN ends in a random suffix of its own: the name inside it is what stays from run to run.
  const secretName = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(target)?.[1];
  return `${(command as object).constructor.name} ${secretName ?? target}`;
};

interface Sendable {
  send: (command: never) => Promise<unknown>;
}

/**
 * Injects seeded faults into the stand-ins' SDK-shaped `send` (CA, Secrets Manager, EventBridge) and into the
 * Keywhiz dev server's answers, counting every attempt. A timeout is the hard case: the call is carried out and
 * its answer lost, so the caller cannot tell whether it happened.
 */
export class FaultInjector {
  /** Attempts per service (each SDK retry counts), and the faults among them. */
  readonly attempts: Record<FaultedService, number> = {
    ca: 0,
    secretsManager: 0,
    eventBridge: 0,
    keywhiz: 0,
  };
  readonly faults: Record<Fault, number> = { throttle: 0, serverError: 0, timeout: 0 };
  readonly #seed: number;
  /** Calls so far per call key: the n-th call with a key draws the same fault whatever else runs beside it. */
  readonly #calls = new Map<string, number>();
  readonly #injected = new WeakSet<object>();
  #enabled = true;

  constructor(
    seed: number,
    private readonly rates: FaultRates = CHAOS_RATES,
  ) {
    this.#seed = seed;
  }

  /** Faults stop (true) or resume (false): a fleet is set up and checked without them. */
  pause(paused: boolean): void {
    this.#enabled = !paused;
  }

  get totalAttempts(): number {
    return Object.values(this.attempts).reduce((a, b) => a + b, 0);
  }

  /**
   * Replaces `client.send` with one that fails as `rates` say, behind the SDK's retries: the stand-ins are called
   * without the SDK's middleware, so the injector plays its standard mode with the attempts every function's client
   * is configured with (SDK_MAX_ATTEMPTS).
   */
  wrap(service: Exclude<FaultedService, 'keywhiz'>, client: Sendable): void {
    const send = client.send.bind(client);
    const faulty = async (command: never) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const fault = this.#draw(service, callKey(command));
          if (fault === 'throttle' || fault === 'serverError') throw this.#error(service, fault);
          const answer = await send(command);
          if (fault === 'timeout') throw this.#error(service, fault);
          return answer;
        } catch (error) {
          if (attempt >= SDK_MAX_ATTEMPTS || !this.#injected.has(error as object)) throw error;
        }
      }
    };
    // The stand-ins declare `send` readonly for their callers; the bench stands where the SDK client would.
    Object.defineProperty(client, 'send', { value: faulty, configurable: true, writable: true });
  }

  /** Keywhiz throttles with 429, fails with 503, and stalls past the client's timeout before answering. */
  wrapKeywhiz(keywhiz: KeywhizDevServer, clientTimeoutMs: number): void {
    keywhiz.beforeAnswer = async ({ endpoint, service, names }) => {
      const fault = this.#draw('keywhiz', `${endpoint} ${service} ${names.join(',')}`);
      if (fault === 'throttle') return 429;
      if (fault === 'serverError') return 503;
      if (fault === 'timeout') await new Promise((resolve) => setTimeout(resolve, clientTimeoutMs + 100));
      return undefined;
    };
  }

  #draw(service: FaultedService, key: string): Fault | undefined {
    if (!this.#enabled) return undefined;
    this.attempts[service] += 1;
    const call = `${service} ${key}`;
    const n = (this.#calls.get(call) ?? 0) + 1;
    this.#calls.set(call, n);
    const r = seededRandom(this.#seed ^ hash(`${call} ${n}`))();
    const { throttle, serverError, timeout } = this.rates;
    const fault: Fault | undefined =
      r < throttle
        ? 'throttle'
        : r < throttle + serverError
          ? 'serverError'
          : r < throttle + serverError + timeout
            ? 'timeout'
            : undefined;
    if (fault) this.faults[fault] += 1;
    return fault;
  }

  #error(service: Exclude<FaultedService, 'keywhiz'>, fault: Fault): Error {
    const error =
      fault === 'timeout'
        ? Object.assign(new Error('chaos: the answer did not arrive in time (the call was carried out)'), {
            name: 'TimeoutError',
            $metadata: { attempts: SDK_MAX_ATTEMPTS },
          })
        : Object.assign(new Error(`chaos: injected ${fault}`), {
            name: ERROR_NAMES[service][fault],
            $fault: fault === 'throttle' ? 'client' : 'server',
            $metadata: { httpStatusCode: fault === 'throttle' ? 400 : 500 },
          });
    this.#injected.add(error);
    return error;
  }
}
