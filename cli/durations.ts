import { formatDuration } from '../functions/shared/domain/duration';

/** Milliseconds per unit of the spans the command line takes: `250ms`, `30s`, `5m`, `1h`, `7d`. */
const SPAN_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type SpanUnit = keyof typeof SPAN_UNIT_MS;

/** The units a schedule's interval is given and printed in. */
const INTERVAL_UNITS: readonly SpanUnit[] = ['ms', 's', 'm', 'h'];
/** setInterval takes at most 2^31-1 ms (about 24.8 days); more fires at once. */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

/** A whole number and one of the given units, in ms; undefined for anything else. */
const spanMs = (text: string, units: readonly SpanUnit[]): number | undefined => {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  const unit = match?.[2] as SpanUnit | undefined;
  if (!match || unit === undefined || !units.includes(unit)) return undefined;
  return Number(match[1]) * SPAN_UNIT_MS[unit];
};

/** A schedule's interval (`30s`, `5m`, `1h`, `250ms`): a positive whole number and a unit; undefined for anything else. */
export const parseInterval = (text: string): number | undefined => {
  const ms = spanMs(text.trim(), INTERVAL_UNITS);
  return ms !== undefined && ms > 0 && ms <= MAX_INTERVAL_MS ? ms : undefined;
};

/** `--since`: a span back from now (30m, 24h, 7d) or an ISO-8601 time; an Error saying what is accepted. */
export const parseSince = (text: string, now = new Date()): Date | Error => {
  const span = spanMs(text, ['m', 'h', 'd']);
  if (span !== undefined) return new Date(now.getTime() - span);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    return new Error(`--since ${JSON.stringify(text)}: give a span (30m, 24h, 7d) or an ISO-8601 time`);
  }
  return new Date(at);
};

/** An interval in the largest unit it is a whole number of: `12 h`, `30 s`, `250 ms`. */
export const formatInterval = (ms: number): string => {
  const unit = [...INTERVAL_UNITS].reverse().find((u) => ms % SPAN_UNIT_MS[u] === 0) ?? 'ms';
  return `${ms / SPAN_UNIT_MS[unit]} ${unit}`;
};

/** `12.3 s`: how long a run took, as its report says. */
export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A run's duration in a listing: `12.3 s`, `3m 05s`, then hours and minutes. */
export const formatRunDuration = (ms: number): string => {
  const s = ms / 1000;
  if (s < 60) return formatSeconds(ms);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return formatDuration(ms);
};

/** How long ago something happened: `just now` within a minute, else hours and minutes. */
export const formatAgo = (ms: number): string => (ms < 60_000 ? 'just now' : `${formatDuration(ms)} ago`);
