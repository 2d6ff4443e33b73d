import type { ExecutionRecord } from '../engine';
import { SECRET_DETAIL_TYPES, SVID_DETAIL_TYPES } from '../functions/shared/domain/audit';
import { replayInputOf } from '../functions/shared/domain/replay';
import type { SyncRequest } from '../functions/shared/domain/sync';
import type { AuditLogEntry, LocalStack } from '../local-stack/stack';
import { formatSeconds } from './durations';
import { renderTable } from './table';

/** One audit event as a table row, and the outcome the summary line counts it under. */
interface RunRow {
  cells: string[];
  outcome: string;
  /** How many items the event stands for (e.g. unchanged secrets); default 1. */
  count?: number;
}

interface RunReport {
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

/** Runs one rotation on the local stack and prints its table and summary (and the replay command when accounts failed). */
export const rotateAndReport = async (
  stack: LocalStack,
  request: object,
  print: (line: string) => void = console.log,
): Promise<number> => {
  const { execution, events, ms } = await runOf(stack, () => stack.rotate(request));
  return printRunReport(
    {
      kind: 'rotation',
      execution,
      headers: ['ACCOUNT', 'SPIFFE ID', 'SERIAL', 'NOT AFTER', 'STATUS'],
      rows: events.map((e) => rotationRow(e['detail-type'], e.detail as Record<string, string | undefined>)),
      outcomes: ['issued', 'skipped', 'deleted', 'failed'],
      ms,
    },
    print,
  );
};

export const SYNC_OUTCOMES = ['synced', 'unchanged', 'deleted', 'restored', 'refused', 'failed'] as const;

/** Runs one sync on the local stack and prints its table and summary (and what to run next when accounts failed). */
export const syncAndReport = async (
  stack: LocalStack,
  request: SyncRequest,
  print: (line: string) => void = console.log,
): Promise<number> => {
  const { execution, events, ms } = await runOf(stack, () => stack.sync(request));
  const code = printRunReport(
    {
      kind: 'sync',
      execution,
      headers: ['ACCOUNT', 'SERVICE', 'KEYWHIZ NAME', 'SECRETS MANAGER NAME', 'STATUS'],
      rows: events.map(syncRow),
      outcomes: SYNC_OUTCOMES,
      ms,
    },
    print,
  );
  if (events.some((e) => (e.detail as { error?: string }).error === 'SvidUnavailable')) {
    print('an agent has no SVID yet: run `trust-bridge rotate --once` first, then sync again');
  }
  return code;
};

/** Runs one execution to its end; with the audit events it emitted (its runId is the execution's name). */
const runOf = async (stack: LocalStack, run: () => Promise<ExecutionRecord>) => {
  const started = Date.now();
  const execution = await run();
  const ms = Date.now() - started;
  const events = (await stack.auditEvents()).filter(
    (e) => (e.detail as { runId?: string }).runId === execution.name,
  );
  return { execution, events, ms };
};

/**
 * Prints a run's table (sorted column by column), a summary line with its status, counts and
 * duration, and for a failed run its error and the command that replays it. Returns the exit code.
 */
const printRunReport = (report: RunReport, print: (line: string) => void): number => {
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

const rotationRow = (detailType: string, d: Record<string, string | undefined>): RunRow => {
  const [outcome, status] = rotationStatusOf(detailType, d);
  return { cells: [d.accountId ?? '', d.spiffeId ?? '', d.serial ?? '', d.notAfter ?? '', status], outcome };
};

const rotationStatusOf = (detailType: string, d: Record<string, string | undefined>): [string, string] => {
  if (detailType === SVID_DETAIL_TYPES.issued) return ['issued', 'issued'];
  if (detailType === SVID_DETAIL_TYPES.skipped) return ['skipped', 'skipped (fresh)'];
  if (detailType === SVID_DETAIL_TYPES.repaired) return ['skipped', `repaired (${String(d.repaired)})`];
  if (detailType === SVID_DETAIL_TYPES.deleted) return ['deleted', `deleted (${d.reason})`];
  if (detailType === SVID_DETAIL_TYPES.retirementRefused)
    return ['refused', `REFUSED (${d.reason}): would retire ${d.count} of ${d.stored} SVIDs`];
  return ['failed', `FAILED: ${d.error}: ${d.message}`];
};

const syncRow = (event: AuditLogEntry): RunRow => {
  const d = event.detail as Record<string, string | number | undefined>;
  const text = (key: string) => (d[key] === undefined ? '' : String(d[key]));
  const [outcome, status] = syncStatusOf(event['detail-type'], text);
  return {
    cells: [text('accountId'), text('service'), text('keywhizName'), text('secretName'), status],
    outcome,
    ...(typeof d.count === 'number' ? { count: d.count } : {}),
  };
};

const syncStatusOf = (detailType: string, text: (key: string) => string): [string, string] => {
  switch (detailType) {
    case SECRET_DETAIL_TYPES.synced:
      return ['synced', 'synced'];
    case SECRET_DETAIL_TYPES.unchanged:
      return ['unchanged', `unchanged (${text('count')})`];
    case SECRET_DETAIL_TYPES.deleted:
      return ['deleted', 'deleted'];
    case SECRET_DETAIL_TYPES.restored:
      return ['restored', 'restored'];
    case SECRET_DETAIL_TYPES.refused:
      return ['refused', `refused: ${text('reason')}: ${text('message')}`];
    default:
      return ['failed', `FAILED: ${text('error')}: ${text('message')}`];
  }
};
