import { AsyncLocalStorage } from 'node:async_hooks';
import type { TaskHandler } from '../../engine';
import { deployedMemoryMb } from './deployed-stack';
import { LAMBDA_QUOTAS, MEASURED_INIT_MS, quotaOf } from './quotas';
import { TokenBucket } from './token-bucket';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One execution environment of one function: its SDK clients (and their retry quotas) live as long as it does. */
export class Container {
  /** Per service, the retry strategy of the SDK client this container built. */
  readonly retryStrategies = new Map<string, Promise<unknown>>();
  /** When its last invocation ended: Lambda reclaims an environment left idle (LAMBDA_QUOTAS.idleLifetimeMs). */
  idleSinceMs = 0;

  constructor(readonly step: string) {}
}

/** What the simulated Lambda did, for the report. */
export interface LambdaTotals {
  invocations: number;
  coldStarts: number;
  /** Invocations refused over the account's concurrency quota (Lambda.TooManyRequestsException). */
  throttled: number;
  /** Invocations that ended in an error the state machine's Retry or Catch then handled, by error name. */
  failures: Record<string, number>;
  gbSeconds: number;
  /** Per step: invocations and billed milliseconds (INIT included), for the cost model. */
  steps: Record<string, { invocations: number; billedMs: number }>;
  /** The most invocations running at once, all accounts together. */
  peakConcurrency: number;
  /** Tasks that waited for a state transition token, and how long in all (ms). */
  transitionWaits: number;
  transitionWaitMs: number;
}

const accountOf = (functionArn: string) => functionArn.split(':')[4] ?? '';

/**
 * Runs each step's handler as Lambda would on AWS, in simulated time: a warm container when one is idle, else a
 * cold start (sandbox + the function's measured import time) unless the account is at its concurrency quota;
 * billed GB-seconds from the function's memory; each Task first takes a state transition token.
 */
export class SimulatedLambda {
  readonly totals: LambdaTotals = SimulatedLambda.#zero();
  readonly #current = new AsyncLocalStorage<Container>();
  readonly #idle = new Map<string, Container[]>();
  readonly #running = new Map<string, number>();
  #runningTotal = 0;
  readonly #transitions: TokenBucket;
  readonly #memoryMb = deployedMemoryMb();

  constructor() {
    const quota = quotaOf('Step Functions', 'StateTransition');
    if (!quota) throw new Error('no StateTransition quota');
    this.#transitions = new TokenBucket(quota.perSecond, quota.burst);
  }

  static #zero(): LambdaTotals {
    return {
      invocations: 0,
      coldStarts: 0,
      throttled: 0,
      failures: {},
      gbSeconds: 0,
      steps: {},
      peakConcurrency: 0,
      transitionWaits: 0,
      transitionWaitMs: 0,
    };
  }

  /** Counts from zero again (a new phase of a simulation); warm containers stay warm. */
  reset(): void {
    Object.assign(this.totals, SimulatedLambda.#zero());
  }

  /** The most recently used idle container of the function, if Lambda has not reclaimed it yet. */
  #warmContainer(functionKey: string): Container | undefined {
    const idle = this.#idle.get(functionKey) ?? [];
    const container = idle.pop();
    if (!container || Date.now() - container.idleSinceMs <= LAMBDA_QUOTAS.idleLifetimeMs) return container;
    // The rest idled longer still: all reclaimed.
    idle.length = 0;
    return undefined;
  }

  /** The container whose handler is running now, if any. */
  get container(): Container | undefined {
    return this.#current.getStore();
  }

  readonly runStep = (step: string, handler: TaskHandler): TaskHandler => {
    const memoryMb = this.#memoryMb[step];
    if (memoryMb === undefined) throw new Error(`no deployed function serves the step ${step}`);
    const memoryGb = memoryMb / 1024;
    const initMs = LAMBDA_QUOTAS.sandboxStartMs + (MEASURED_INIT_MS[step] ?? 0);
    return async (event, context) => {
      const wait = this.#transitions.waitMs(Date.now());
      if (wait > 0) {
        this.totals.transitionWaits += 1;
        this.totals.transitionWaitMs += wait;
        await sleep(wait);
      }
      await sleep(LAMBDA_QUOTAS.invokeLatencyMs);
      // The sync agent runs in each enrolled account, under that account's own quota; the rest in the central one.
      const account = accountOf(context.invokedFunctionArn);
      const functionKey = `${account} ${step}`;
      const running = this.#running.get(account) ?? 0;
      let container = this.#warmContainer(functionKey);
      if (!container && running >= LAMBDA_QUOTAS.concurrency) {
        this.totals.throttled += 1;
        throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
      }
      this.#running.set(account, running + 1);
      this.#runningTotal += 1;
      this.totals.peakConcurrency = Math.max(this.totals.peakConcurrency, this.#runningTotal);
      this.totals.invocations += 1;
      const started = Date.now();
      try {
        if (!container) {
          container = new Container(step);
          this.totals.coldStarts += 1;
          // INIT is billed like the handler's own time (AWS bills the init phase since August 2025).
          await sleep(initMs);
        }
        const ready = container;
        return await this.#current.run(ready, () => handler(event, context));
      } catch (error) {
        const name = (error as Error).name;
        this.totals.failures[name] = (this.totals.failures[name] ?? 0) + 1;
        throw error;
      } finally {
        const billedMs = Math.max(1, Date.now() - started);
        this.totals.gbSeconds += (billedMs / 1000) * memoryGb;
        const perStep = (this.totals.steps[step] ??= { invocations: 0, billedMs: 0 });
        perStep.invocations += 1;
        perStep.billedMs += billedMs;
        this.#running.set(account, (this.#running.get(account) ?? 1) - 1);
        this.#runningTotal -= 1;
        if (container) {
          container.idleSinceMs = Date.now();
          const idle = this.#idle.get(functionKey) ?? [];
          idle.push(container);
          this.#idle.set(functionKey, idle);
        }
      }
    };
  };
}
