/** How a retried operation waits between attempts: AWS's "full jitter" over a capped exponential delay. */
export interface RetryPolicy {
  /** Attempts, the first included. */
  maxAttempts: number;
  /** The first retry waits up to this; each later one up to twice as long as the one before. */
  baseMs: number;
  /** No retry waits longer than this (a wait the attempt asks for comes on top). */
  capMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * The rounds a batch adapter gives the entries a call left undone: `maxAttempts` (default 5, the first included)
 * from 100 ms doubling up to `capMs`.
 */
export const batchRounds = (
  options: { maxAttempts?: number; sleep?: (ms: number) => Promise<void> },
  capMs: number,
): RetryPolicy => ({
  maxAttempts: Math.max(1, options.maxAttempts ?? 5),
  baseMs: 100,
  capMs,
  ...(options.sleep && { sleep: options.sleep }),
});

/** One attempt's result, and whether it asks for another, after `waitMs` (e.g. a Retry-After) plus the jitter. */
export interface Attempt<T> {
  result: T;
  again: boolean;
  waitMs?: number;
}

/**
 * The one retry loop for what the AWS SDK's own retries cannot cover: the partial failures of a batch call
 * (PutEvents entries, BatchWriteItem's unprocessed items, which the SDK returns as a success) and Keywhiz's plain
 * HTTPS calls, which have no SDK under them. A whole AWS call is never retried here: its client's `maxAttempts`
 * does that. Runs `attempt` (numbered from 1) until it asks for no other or `maxAttempts` are spent, and returns
 * the last result for the caller to judge.
 */
export async function retrying<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<Attempt<T>>,
): Promise<T> {
  const { maxAttempts, baseMs, capMs, random = Math.random } = policy;
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let n = 1; ; n++) {
    const { result, again, waitMs = 0 } = await attempt(n);
    if (!again || n >= maxAttempts) return result;
    await sleep(waitMs + random() * Math.min(capMs, baseMs * 2 ** (n - 1)));
  }
}
