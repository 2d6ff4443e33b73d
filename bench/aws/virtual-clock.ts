import { type Clock, install } from '@sinonjs/fake-timers';

/**
 * Simulated time: `setTimeout`, `setInterval` and `Date` follow a clock that jumps to the next timer whenever
 * nothing real is left to do, so an hour of API latencies, SDK backoffs and Retry intervals passes in the time
 * the code itself takes. Real work must finish before the clock moves, or a call would seem to take simulated
 * time it never spent: file I/O is seen through Node's active requests, and WebCrypto (which runs on the thread
 * pool and leaves no trace there) is counted by wrapping SubtleCrypto; a pending setImmediate is work too.
 */
export class VirtualClock {
  readonly #clock: Clock;
  readonly #startMs: number;
  readonly #realImmediate = setImmediate;
  #cryptoPending = 0;
  readonly #restoreCrypto: () => void;

  private constructor(startMs: number) {
    this.#startMs = startMs;
    this.#clock = install({
      now: startMs,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      // Middy arms its timeout with node:timers/promises, which stays real: clearing it must still work.
      shouldClearNativeTimers: true,
    });
    this.#restoreCrypto = this.#countCrypto();
  }

  /** Installs the clock on the globals; `uninstall` gives the real ones back. */
  static install(startMs = Date.parse('2026-12-07T00:00:00Z')): VirtualClock {
    return new VirtualClock(startMs);
  }

  /** Simulated milliseconds since the clock was installed. */
  get elapsedMs(): number {
    return this.#clock.now - this.#startMs;
  }

  uninstall(): void {
    this.#restoreCrypto();
    this.#clock.uninstall();
  }

  /**
   * Awaits `work`, moving the clock to the next timer each time everything real has settled. A run with nothing
   * scheduled and nothing real in flight can never finish: that is reported rather than waited on.
   */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const outcome = work.finally(() => {
      settled = true;
    });
    outcome.catch(() => {});
    let idleTurns = 0;
    while (!settled) {
      await new Promise((resolve) => this.#realImmediate(resolve));
      if (settled || this.#realWorkPending()) {
        idleTurns = 0;
        continue;
      }
      if (this.#clock.countTimers() > 0) {
        this.#clock.next();
        idleTurns = 0;
      } else if (++idleTurns > 10_000) {
        throw new Error('simulation stalled: nothing is scheduled and nothing real is in flight');
      }
    }
    return outcome;
  }

  #realWorkPending(): boolean {
    if (this.#cryptoPending > 0) return true;
    return process
      .getActiveResourcesInfo()
      .some((r) => r.startsWith('FSReq') || r === 'CloseReq' || r === 'Immediate');
  }

  #countCrypto(): () => void {
    const subtle = Object.getPrototypeOf(globalThis.crypto.subtle) as Record<string, unknown>;
    const originals = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    const pending = (delta: number) => {
      this.#cryptoPending += delta;
    };
    for (const name of ['generateKey', 'sign', 'verify', 'digest', 'importKey', 'exportKey']) {
      const original = subtle[name] as (...args: unknown[]) => Promise<unknown>;
      originals.set(name, original);
      subtle[name] = function (this: unknown, ...args: unknown[]) {
        pending(1);
        return original.apply(this, args).finally(() => pending(-1));
      };
    }
    return () => {
      for (const [name, original] of originals) subtle[name] = original;
    };
  }
}
