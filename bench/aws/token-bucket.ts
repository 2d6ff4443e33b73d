/** AWS's rate quotas as they are enforced: a bucket of `burst` tokens refilled at `perSecond`, one per request. */
export class TokenBucket {
  #tokens: number;
  #updatedMs: number | undefined;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  /** Takes a token if there is one (the request is served) or answers false (the request is throttled). */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes a token, in debt if need be: how long the caller waits for it (state transitions wait, not fail). */
  waitMs(nowMs: number): number {
    this.#refill(nowMs);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.perSecond) * 1000);
  }

  #refill(nowMs: number): void {
    const elapsed = this.#updatedMs === undefined ? 0 : nowMs - this.#updatedMs;
    this.#updatedMs = nowMs;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.perSecond);
  }
}
