/** AWS's "full jitter": a random wait up to the capped exponential delay of this retry (0 for the first). */
export const fullJitterMs = (
  retry: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
) => random() * Math.min(capMs, baseMs * 2 ** retry);
