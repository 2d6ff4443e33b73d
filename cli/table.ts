import type { ExecutionRecord } from '../engine';
import { replayInputOf } from '../functions/shared/domain/replay';
import { formatSeconds } from './durations';
import { type AuditLogEntry, readAuditLog } from '../local-stack/stand-ins/local-event-bus';

/** Renders rows as an aligned plain-text table with a header line. */
export const renderTable = (headers: string[], rows: string[][]): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

/** The audit events one run emitted: its runId is the execution's name. */
export const runAuditEvents = async (
  dataDir: string,
  busName: string,
  runId: string,
): Promise<AuditLogEntry[]> =>
  (await readAuditLog(dataDir, busName)).filter((e) => (e.detail as { runId?: string }).runId === runId);

/** One audit event as a table row, and the outcome the summary line counts it under. */
export interface RunRow {
  cells: string[];
  outcome: string;
  /** How many items the event stands for (e.g. unchanged secrets); default 1. */
  count?: number;
}

export interface RunReport {
  /** Names the run in its summary line: `rotation`, `sync`. */
  kind: string;
  execution: ExecutionRecord;
  headers: string[];
  rows: RunRow[];
  /** The outcomes the summary line counts, in this order. */
  outcomes: readonly string[];
  /** How long the run took. */
  ms: number;
}

/**
 * Prints a run's table (sorted column by column), a summary line with its status, counts and
 * duration, and for a failed run its error and the command that replays it. Returns the exit code.
 */
export const printRunReport = (report: RunReport, print: (line: string) => void = console.log): number => {
  const rows = report.rows.map((r) => r.cells);
  rows.sort((a, b) => a.reduce((order, cell, i) => order || cell.localeCompare(b[i] ?? ''), 0));
  print(renderTable(report.headers, rows));
  if (rows.length === 0) print('(no audit events: nothing was in scope for this run)');
  const counts = report.outcomes.map(
    (outcome) =>
      `${report.rows.filter((r) => r.outcome === outcome).reduce((n, r) => n + (r.count ?? 1), 0)} ${outcome}`,
  );
  const { execution } = report;
  print(
    `\n${report.kind} ${execution.name}: ${execution.status} in ${formatSeconds(report.ms)} (${counts.join(', ')})`,
  );
  if (execution.status === 'SUCCEEDED') return 0;
  print(`${execution.error ?? 'failed'}: ${execution.cause ?? ''}`);
  // The replay command reruns exactly the failed accounts, once, as a run linked to this one.
  if (replayInputOf(execution.cause))
    print(`replay the failed accounts: trust-bridge replay ${execution.name}`);
  return 1;
};

/** Prints records as JSON (one array) with --json, otherwise as a table of the cells each record gives. */
export const printListing = <T>(
  records: T[],
  options: { json: boolean; headers: string[]; cells: (record: T) => string[]; empty: string },
  print: (line: string) => void = console.log,
): void => {
  if (options.json) return print(JSON.stringify(records, null, 2));
  if (records.length === 0) return print(options.empty);
  print(renderTable(options.headers, records.map(options.cells)));
};
