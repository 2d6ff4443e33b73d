/** Step Functions keeps at most 32,768 characters of a Fail state's cause. */
const MAX_CAUSE = 32_768;

/** Adds up the named counters of every chunk. */
export const sumCounts = <K extends string>(
  chunks: Array<Record<K, number>>,
  keys: readonly K[],
): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, chunks.reduce((total, c) => total + c[k], 0)])) as Record<K, number>;

/** Every account any chunk names as failed, once, sorted. */
export const failedAccountsOf = (chunks: Array<{ failedAccounts: string[] }>): string[] =>
  [...new Set(chunks.flatMap((c) => c.failedAccounts))].sort();

/**
 * What a run's Fail state reports when accounts failed: error AccountsFailed and, as the cause, the replay input
 * as JSON (or a pointer to it when too long), so an operator can start exactly that.
 */
export const runFailure = (
  replay: { accounts: string[] },
  summaryState: string,
): { error: 'AccountsFailed'; cause: string } => {
  const replayJson = JSON.stringify(replay);
  return {
    error: 'AccountsFailed',
    cause:
      replayJson.length <= MAX_CAUSE
        ? replayJson
        : `${replay.accounts.length} accounts failed; the replay input is the 'replay' field of the output of state '${summaryState}'`,
  };
};
