import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type AuditEvent, OPS_DETAIL_TYPES } from '../functions/shared/domain/audit';
import {
  keptReplayOf,
  type ReplayInput,
  replayInputOf,
  replayNameOf,
} from '../functions/shared/domain/replay';
import type { RunFile } from '../functions/shared/domain/run-files';
import { openDeployment } from './deployment/open-deployment';
import { parseSince } from './durations';
import { STACK_OPTIONS } from './local-stack-options';
import { OPS_OPTIONS, OPS_OPTIONS_USAGE } from './ops-options';
import { progress } from './progress';
import { nameOf, siblingExecutionArn } from './runs/execution-names';
import {
  CHUNK_MACHINES,
  newestFirst,
  type RunStatus,
  type WorkflowRun,
  type WorkflowRuns,
  workflowsOf,
} from './runs/workflow-runs';
import { printListing } from './table';

export const REPLAY_USAGE = `trust-bridge replay <execution>... | --failed [options]
  Re-runs failed executions. A run whose fan-out failed for some accounts gets a new execution of the same
  workflow for exactly those accounts, named <original>-replay and linked to it (its input's replayOf); a run that
  failed outside the fan-out (e.g. its plan step) is redriven under its own ARN. Each emits an Execution Replayed
  audit event. A run already replayed is reported, not replayed again; a chunk execution stands for the run that
  started it. Locally each run is waited for. Exits 1 when a re-run fails again.

  <execution>          a failed or aborted execution's name or ARN (several may be given)
  --failed             every FAILED run started within --since; locally ABORTED ones too (their process died;
                       on AWS an ABORTED run was stopped on purpose, so only naming it replays it)
  --since D            with --failed: 30m, 24h, 7d or an ISO-8601 time (default: 24h)
  --state-machine M    with --failed: rotate or sync only (default: both)
  --dry-run            print what would be done, and do nothing
  --wait               with --aws: wait for each started run to end
  --bus NAME           with --aws: the audit bus (default: the stack's AuditBusName output)
  --enrollments FILE   local: the enrollment registry the runs read (default: the data directory's)
  --keywhiz-dir DIR    local: the Keywhiz secrets to serve (default: the data directory's)
  --reconfigure        local: use the --enrollments or --keywhiz-dir given, though the data directory has others
${OPS_OPTIONS_USAGE}`;

const OPTIONS = {
  ...OPS_OPTIONS,
  failed: { type: 'boolean', default: false },
  since: { type: 'string' },
  'state-machine': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  bus: { type: 'string' },
  enrollments: STACK_OPTIONS.enrollments,
  reconfigure: STACK_OPTIONS.reconfigure,
  'keywhiz-dir': { type: 'string' },
} as const;

const WAIT_POLL_MS = 5000;

/**
 * What the new run starts with: the failed accounts the cause lists, or, when they did not fit it, where the failed
 * run kept them (its plan reads them there); and how many accounts that is.
 */
interface Replay {
  input: ReplayInput | { replayFrom: RunFile };
  count: number;
  shown: string;
}

const replayOfCause = (cause: string | undefined): Replay | undefined => {
  const items = replayInputOf(cause);
  if (items)
    return { input: items, count: items.accounts.length, shown: `accounts ${items.accounts.join(', ')}` };
  const kept = keptReplayOf(cause);
  if (!kept) return undefined;
  const { bucket, key } = kept.replayFrom;
  return {
    input: { replayFrom: kept.replayFrom },
    count: kept.failedAccounts,
    shown: `the ${kept.failedAccounts} accounts kept in s3://${bucket}/${key}`,
  };
};

/** What replay does to one failed run. */
type Plan =
  | { action: 'none'; original: WorkflowRun; result: string; execution?: string }
  | { action: 'replay'; original: WorkflowRun; execution: string; replay: Replay }
  | { action: 'redrive'; original: WorkflowRun };

/** One line of the report, as printed with --json. */
interface ReplayOutcome {
  original: string;
  originalExecutionArn: string;
  action: Plan['action'];
  execution?: string;
  executionArn?: string;
  items?: number;
  status?: string;
  result: string;
}

/** `trust-bridge replay`: re-runs failed executions as their failure calls for, once each. */
export const replayCommand = async (
  argv: string[],
  print: (line: string) => void = console.log,
): Promise<number> => {
  const parsed = parseOptions(argv);
  if (parsed instanceof Error) {
    console.error(`${parsed.message}\n\n${REPLAY_USAGE}`);
    return 2;
  }
  const { values, deployment, refs, since, workflows } = parsed;
  // Only a change opens what it needs: listing and --dry-run leave the data directory alone.
  const { runs } = deployment;
  try {
    const originals = values.failed
      ? await failedRuns(runs, workflows, since, deployment.failedStatuses)
      : await resolve(runs, refs);
    if (originals instanceof Error) {
      console.error(originals.message);
      return 2;
    }
    const plans = await Promise.all(originals.map((run) => planFor(runs, run)));
    const changes = !values['dry-run'] && plans.some((plan) => plan.action !== 'none');
    if (changes) {
      const refused = await deployment.readyToChange();
      if (refused) return refused.exitCode;
    }
    const outcomes: ReplayOutcome[] = [];
    for (const plan of plans) {
      outcomes.push(values['dry-run'] ? dryRun(plan) : await carryOut(runs, plan, values.wait));
    }
    printListing(
      outcomes,
      {
        json: values.json,
        headers: ['ORIGINAL', 'ACTION', 'NEW EXECUTION', 'ITEMS', 'RESULT'],
        cells: (o) => [o.original, o.action, o.execution ?? '', o.items?.toString() ?? '', o.result],
        empty: `no failed executions${since ? ` since ${since.toISOString()}` : ''}: nothing to replay`,
      },
      print,
    );
    return outcomes.some(failedAgain) ? 1 : 0;
  } finally {
    await deployment.close();
  }
};

const parseOptions = (argv: string[]) => {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    return error as Error;
  }
  const { values, positionals: refs } = parsed;
  const deployment = openDeployment(values, {
    usage: REPLAY_USAGE,
    ...(values.bus !== undefined ? { busName: values.bus } : {}),
  });
  if ('problems' in deployment) return new Error(deployment.problems.join('\n'));
  if (!values.aws) {
    const awsOnly = (['wait', 'bus'] as const).filter((f) => values[f] !== undefined && values[f] !== false);
    if (awsOnly.length > 0) return new Error(awsOnly.map((f) => `--${f} needs --aws`).join('\n'));
  }
  if (values.failed === refs.length > 0) {
    return new Error('name the executions to replay, or give --failed (not both)');
  }
  if (!values.failed) {
    const failedOnly = (['since', 'state-machine'] as const).filter((f) => values[f] !== undefined);
    if (failedOnly.length > 0) return new Error(failedOnly.map((f) => `--${f} needs --failed`).join('\n'));
  }
  const since = values.failed ? parseSince(values.since ?? '24h') : undefined;
  if (since instanceof Error) return since;
  const workflows = workflowsOf(values['state-machine']);
  if (workflows instanceof Error) return workflows;
  return { values, deployment, refs, since, workflows };
};

const failedRuns = async (
  runs: WorkflowRuns,
  machines: string[],
  since: Date | undefined,
  statuses: readonly RunStatus[],
) => {
  const shown = progress('listing failed executions');
  let listed = 0;
  const failed: WorkflowRun[] = [];
  for (const status of statuses) {
    const before = listed;
    failed.push(
      ...(await runs.list({
        machines,
        status,
        ...(since ? { since } : {}),
        onProgress: (n) => shown.update((listed = before + n)),
      })),
    );
  }
  shown.done();
  return failed.sort(newestFirst);
};

/** The top-level runs the names or ARNs stand for (a chunk stands for its parent), or what is wrong with them. */
const resolve = async (runs: WorkflowRuns, refs: string[]): Promise<WorkflowRun[] | Error> => {
  const problems: string[] = [];
  const found = new Map<string, WorkflowRun>();
  for (const ref of refs) {
    const run = await runs.find(ref);
    if (!run) {
      problems.push(`no execution ${JSON.stringify(ref)}: give the name or ARN that \`executions\` lists`);
      continue;
    }
    const isChunk = Object.values(CHUNK_MACHINES).includes(run.machine);
    const parent = run.parentExecutionArn ? await runs.find(run.parentExecutionArn) : undefined;
    if (isChunk && !parent) {
      problems.push(`${ref} is a chunk execution whose parent run cannot be found: replay that run instead`);
      continue;
    }
    const top = parent ?? run;
    found.set(top.executionArn, top);
  }
  return problems.length > 0 ? new Error(problems.join('\n')) : [...found.values()];
};

/** Decides, without changing anything, what the run's failure calls for. */
const planFor = async (runs: WorkflowRuns, original: WorkflowRun): Promise<Plan> => {
  if (original.status === 'SUCCEEDED') {
    const redriven = original.redriveCount ? `, redriven ×${original.redriveCount}` : '';
    return { action: 'none', original, result: `nothing to replay (SUCCEEDED${redriven})` };
  }
  if (original.status === 'RUNNING' || original.status === 'PENDING_REDRIVE') {
    return { action: 'none', original, result: `still ${original.status}` };
  }
  const replay = replayOfCause(original.cause);
  if (!replay) return { action: 'redrive', original };
  const execution = replayNameOf(original.name);
  const earlier = await runs.find(siblingExecutionArn(original.executionArn, execution));
  if (earlier) return alreadyReplayed(original, execution, earlier.status);
  return { action: 'replay', original, execution, replay };
};

const alreadyReplayed = (original: WorkflowRun, execution: string, status: string): Plan => ({
  action: 'none',
  original,
  execution,
  result: `${alreadyReplayedResult(execution)} (${status})`,
});

const dryRun = (plan: Plan): ReplayOutcome => {
  const base = outcomeBase(plan);
  if (plan.action === 'none') return { ...base, result: plan.result };
  if (plan.action === 'redrive') {
    return {
      ...base,
      execution: plan.original.name,
      result: `dry run: would redrive (${plan.original.error})`,
    };
  }
  return {
    ...base,
    execution: plan.execution,
    items: plan.replay.count,
    result: `dry run: would start with ${plan.replay.shown}`,
  };
};

const carryOut = async (runs: WorkflowRuns, plan: Plan, wait: boolean): Promise<ReplayOutcome> => {
  const base = outcomeBase(plan);
  if (plan.action === 'none') return { ...base, result: plan.result };
  const { original } = plan;
  try {
    let run: WorkflowRun;
    if (plan.action === 'replay') {
      const input = { ...plan.replay.input, replayOf: original.executionArn };
      try {
        run = await runs.start(original.machine, plan.execution, input);
      } catch (error) {
        // Someone replayed it between our look and our start: still once.
        if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
        return { ...base, execution: plan.execution, result: alreadyReplayedResult(plan.execution) };
      }
      await runs.audit([replayedEvent(original, run, plan.replay.count)]);
    } else {
      run = await runs.redrive(original);
      await runs.audit([replayedEvent(original, run)]);
    }
    if (wait) run = await untilEnded(runs, run);
    return {
      ...base,
      execution: run.name,
      executionArn: run.executionArn,
      ...(plan.action === 'replay' ? { items: plan.replay.count } : {}),
      status: run.status,
      result: run.status === 'RUNNING' ? 'started' : run.status,
    };
  } catch (error) {
    const e = error as Error;
    return { ...base, status: 'ERROR', result: `${e.name}: ${e.message}` };
  }
};

const alreadyReplayedResult = (execution: string) => `already replayed as ${execution}`;

const outcomeBase = (plan: Plan): ReplayOutcome => ({
  original: plan.original.name,
  originalExecutionArn: plan.original.executionArn,
  action: plan.action,
  ...(plan.action === 'none' && plan.execution ? { execution: plan.execution } : {}),
  result: '',
});

const failedAgain = (o: ReplayOutcome): boolean =>
  o.status !== undefined && !['SUCCEEDED', 'RUNNING'].includes(o.status);

const untilEnded = async (runs: WorkflowRuns, run: WorkflowRun): Promise<WorkflowRun> => {
  for (;;) {
    const now = (await runs.find(run.executionArn)) ?? run;
    if (now.status !== 'RUNNING') return now;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
};

/** The audit event of one replay (a new execution, with its item count) or redrive (the same ARN). */
const replayedEvent = (original: WorkflowRun, run: WorkflowRun, itemCount?: number): AuditEvent => {
  const mode = itemCount === undefined ? 'redrive' : 'replay';
  const key = [original.executionArn, run.executionArn, mode, run.redriveCount ?? 0].join('\n');
  return {
    detailType: OPS_DETAIL_TYPES.replayed,
    detail: {
      eventId: createHash('sha256').update(key).digest('hex').slice(0, 32),
      originalExecutionArn: original.executionArn,
      executionArn: run.executionArn,
      stateMachineName: nameOf(original.executionArn.slice(0, original.executionArn.lastIndexOf(':'))),
      mode,
      ...(itemCount !== undefined ? { itemCount } : { redriveCount: run.redriveCount ?? 1 }),
    },
  };
};
