import { parseArgs } from 'node:util';
import { replayInputOf } from '../functions/shared/domain/replay';
import { OPS_OPTIONS, OPS_OPTIONS_USAGE, opsTargetOf } from './ops-options';
import { progress } from './progress';
import { formatRunDuration, parseSince } from './durations';
import { openRuns } from './runs/open-runs';
import {
  CHUNK_MACHINES,
  RUN_STATUSES,
  type RunStatus,
  WORKFLOWS,
  type WorkflowRun,
} from './runs/workflow-runs';
import { printListing } from './table';

export const EXECUTIONS_USAGE = `trust-bridge executions [options]
  Lists the workflows' executions, newest first: the runs of rotate-svids and sync-secrets (with --all, their
  chunk executions too), with their error, and whether a run replays another or was redriven.
  Locally, a run whose process died (killed, crashed) shows as ABORTED (ProcessDied); \`replay\` re-runs it.

  --state-machine M    rotate or sync (default: both)
  --status S           only runs in this status: ${RUN_STATUSES.join(', ')}
  --since D            only runs started within D (30m, 24h, 7d) or since an ISO-8601 time
  --all                chunk executions too (each names the run that started it)
${OPS_OPTIONS_USAGE}`;

const OPTIONS = {
  ...OPS_OPTIONS,
  'state-machine': { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  all: { type: 'boolean', default: false },
} as const;

/** `trust-bridge executions`: the runs of the local data directory or of the deployed stack. */
export const executionsCommand = async (
  argv: string[],
  print: (line: string) => void = console.log,
): Promise<number> => {
  const parsed = parseOptions(argv);
  if (parsed instanceof Error) {
    console.error(`${parsed.message}\n\n${EXECUTIONS_USAGE}`);
    return 2;
  }
  const { target, query, json } = parsed;
  const runs = openRuns(target);
  const shown = progress('listing executions');
  try {
    const listed = await runs.list({ ...query, onProgress: (n) => shown.update(n) });
    shown.done();
    printListing(
      listed,
      {
        json,
        headers: ['NAME', 'MACHINE', 'STATUS', 'STARTED', 'DURATION', 'ERROR', 'NOTE'],
        cells: executionCells,
        empty: `no executions${target.kind === 'local' ? ` recorded in ${target.dataDir}` : ''}`,
      },
      print,
    );
    return 0;
  } finally {
    await runs.close();
  }
};

const parseOptions = (argv: string[]) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return error as Error;
  }
  const target = opsTargetOf(values);
  if ('problems' in target) return new Error(target.problems.join('\n'));
  const workflows = workflowsOf(values['state-machine']);
  if (workflows instanceof Error) return workflows;
  const status = values.status?.toUpperCase();
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
    return new Error(`--status ${JSON.stringify(values.status)}: one of ${RUN_STATUSES.join(', ')}`);
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (since instanceof Error) return since;
  return {
    target,
    json: values.json,
    query: {
      machines: values.all ? workflows.flatMap((w) => [w, CHUNK_MACHINES[w]]) : workflows,
      ...(status ? { status: status as RunStatus } : {}),
      ...(since ? { since } : {}),
    },
  };
};

/** `--state-machine rotate|sync` (the deployed names are accepted too); both when absent. */
export const workflowsOf = (given: string | undefined) => {
  const all = Object.values(WORKFLOWS);
  if (given === undefined) return all;
  const workflow = WORKFLOWS[given as keyof typeof WORKFLOWS] ?? all.find((w) => w === given);
  if (!workflow) return new Error(`--state-machine ${JSON.stringify(given)}: rotate or sync`);
  return [workflow];
};

const executionCells = (run: WorkflowRun): string[] => [
  run.name,
  run.machine,
  run.status,
  shortDate(run.startDate),
  run.stopDate ? formatRunDuration(Date.parse(run.stopDate) - Date.parse(run.startDate)) : '',
  errorOf(run),
  noteOf(run),
];

const errorOf = (run: WorkflowRun): string => {
  if (run.error === undefined) return '';
  const items = replayInputOf(run.cause);
  return items ? `${run.error} (${items.accounts.length} accounts)` : run.error;
};

const noteOf = (run: WorkflowRun): string =>
  [
    run.replayOf ? `replay of ${nameOf(run.replayOf)}` : '',
    run.parentExecutionArn ? `chunk of ${nameOf(run.parentExecutionArn)}` : '',
    run.redriveCount ? `redriven ×${run.redriveCount}` : '',
  ]
    .filter(Boolean)
    .join(', ');

export const nameOf = (executionArn: string): string => executionArn.slice(executionArn.lastIndexOf(':') + 1);

const shortDate = (iso: string): string => `${iso.slice(0, 19).replace('T', ' ')}Z`;
