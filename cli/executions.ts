import { parseArgs } from 'node:util';
import { replayInputOf } from '../functions/shared/domain/replay';
import { openDeployment } from './deployment/open-deployment';
import { formatRunDuration, parseSince } from './durations';
import { OPS_OPTIONS, OPS_OPTIONS_USAGE } from './ops-options';
import { progress } from './progress';
import { nameOf } from './runs/execution-names';
import {
  CHUNK_MACHINES,
  RUN_STATUSES,
  type RunStatus,
  type WorkflowRun,
  workflowsOf,
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
  const { deployment, query, json } = parsed;
  const shown = progress('listing executions');
  try {
    const listed = await deployment.runs.list({ ...query, onProgress: (n) => shown.update(n) });
    shown.done();
    printListing(
      listed,
      {
        json,
        headers: ['NAME', 'MACHINE', 'STATUS', 'STARTED', 'DURATION', 'ERROR', 'NOTE'],
        cells: executionCells,
        empty: `no executions${deployment.runsRecordedIn !== undefined ? ` recorded in ${deployment.runsRecordedIn}` : ''}`,
      },
      print,
    );
    return 0;
  } finally {
    await deployment.close();
  }
};

const parseOptions = (argv: string[]) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    return error as Error;
  }
  const deployment = openDeployment(values, { usage: EXECUTIONS_USAGE });
  if ('problems' in deployment) return new Error(deployment.problems.join('\n'));
  const workflows = workflowsOf(values['state-machine']);
  if (workflows instanceof Error) return workflows;
  const status = values.status?.toUpperCase();
  if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
    return new Error(`--status ${JSON.stringify(values.status)}: one of ${RUN_STATUSES.join(', ')}`);
  }
  const since = values.since === undefined ? undefined : parseSince(values.since);
  if (since instanceof Error) return since;
  return {
    deployment,
    json: values.json,
    query: {
      machines: values.all ? workflows.flatMap((w) => [w, CHUNK_MACHINES[w]]) : workflows,
      ...(status ? { status: status as RunStatus } : {}),
      ...(since ? { since } : {}),
    },
  };
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

const shortDate = (iso: string): string => `${iso.slice(0, 19).replace('T', ' ')}Z`;
