/** Adds up the named counters of every chunk. */
export const sumCounts = <K extends string>(
  chunks: Array<Record<K, number>>,
  keys: readonly K[],
): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, chunks.reduce((total, c) => total + c[k], 0)])) as Record<K, number>;

/** Every account any chunk names as failed, once, sorted. */
export const failedAccountsOf = (chunks: Array<{ failedAccounts: string[] }>): string[] =>
  [...new Set(chunks.flatMap((c) => c.failedAccounts))].sort();
