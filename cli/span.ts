/** Milliseconds per unit of the spans the command line takes: `250ms`, `30s`, `5m`, `1h`, `7d`. */
export const SPAN_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type SpanUnit = keyof typeof SPAN_UNIT_MS;

/** A whole number and one of the given units, in ms; undefined for anything else. */
export const spanMs = (text: string, units: readonly SpanUnit[]): number | undefined => {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  const unit = match?.[2] as SpanUnit | undefined;
  if (!match || unit === undefined || !units.includes(unit)) return undefined;
  return Number(match[1]) * SPAN_UNIT_MS[unit];
};
