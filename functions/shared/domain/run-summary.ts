/** Adds up the named counters of every chunk. */
export const sumCounts = <K extends string>(
  chunks: Array<Record<K, number>>,
  keys: readonly K[],
): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, chunks.reduce((total, c) => total + c[k], 0)])) as Record<K, number>;

/** Every account any chunk names as failed, once, sorted. */
export const failedAccountsOf = (chunks: Array<{ failedAccounts: string[] }>): string[] =>
  [...new Set(chunks.flatMap((c) => c.failedAccounts))].sort();

/** What each child execution of a run's Map Run is given (the Map's ItemSelector): its chunk's accounts among it. */
export interface ChunkItem {
  chunk: { accounts: string[] };
}

/**
 * A chunk whose child execution of the Map Run did not finish counts as 'Record Chunk Failure' counts a chunk
 * execution that failed: every account in it failed and is replayable, and nothing else happened.
 */
export const unfinishedChunk = <K extends string>(counters: readonly K[], { chunk }: ChunkItem) => ({
  ...(Object.fromEntries(counters.map((k) => [k, 0])) as Record<K, number>),
  failed: chunk.accounts.length,
  failedAccounts: chunk.accounts,
});
