import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { pages } from '../../functions/shared/aws/pages';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import { isReplayName } from '../../functions/shared/domain/replay';
import type { AuditSink } from '../../functions/shared/ports/audit-sink/audit-sink';
import { type DeployedStack, STATE_MACHINE_OUTPUTS } from '../deployed-stack';
import { ambiguousName, executionArnOf } from './execution-names';
import {
  ALL_MACHINES,
  linksOf,
  newestFirst,
  type RunQuery,
  type RunStatus,
  type WorkflowRun,
  type WorkflowRuns,
} from './workflow-runs';

export interface AwsRunsOptions {
  sfn: SFNClient;
  /** The deployed audit bus, through the same sink the steps publish with; opened on the first audit. */
  audit: () => Promise<AuditSink>;
  /** The deployed stack, whose outputs give the state machines' ARNs. */
  stack: Pick<DeployedStack, 'outputs'>;
}

/** DescribeExecution calls at once when a listing fills in errors and links. */
const DESCRIBE_CONCURRENCY = 5;

/**
 * The deployed workflows on AWS Step Functions. ListExecutions gives neither input nor error, so a listing
 * describes the runs an operator acts on: the failed ones (their error and replay cause) and those named as
 * replays (their link to the original).
 */
export class AwsRuns implements WorkflowRuns {
  private machineArns: Promise<Map<string, string>> | undefined;
  private sink: Promise<AuditSink> | undefined;

  constructor(private readonly options: AwsRunsOptions) {}

  async list(query: RunQuery): Promise<WorkflowRun[]> {
    const listed: WorkflowRun[] = [];
    for (const machine of query.machines) {
      const stateMachineArn = await this.machineArn(machine);
      let past = false;
      const list = (nextToken: string | undefined) =>
        this.options.sfn.send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: 100,
            ...(query.status ? { statusFilter: query.status } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      for await (const page of pages(list, (page) => page.nextToken)) {
        for (const item of page.executions ?? []) {
          // Newest first: the first run older than --since ends this machine's listing.
          if (query.since && (item.startDate?.getTime() ?? 0) < query.since.getTime()) {
            past = true;
            break;
          }
          listed.push(this.listedRun(machine, item));
        }
        query.onProgress?.(listed.length);
        if (past) break;
      }
    }
    const described = await mapLimited(listed, DESCRIBE_CONCURRENCY, (run) =>
      run.status !== 'SUCCEEDED' || isReplayName(run.name) ? this.describe(run.executionArn) : run,
    );
    return described.sort(newestFirst);
  }

  async find(nameOrArn: string): Promise<WorkflowRun | undefined> {
    if (nameOrArn.startsWith('arn:')) return this.describeIfAny(nameOrArn);
    const found: WorkflowRun[] = [];
    for (const machine of ALL_MACHINES) {
      const stateMachineArn = (await this.arns()).get(machine);
      if (!stateMachineArn) continue;
      const run = await this.describeIfAny(executionArnOf(stateMachineArn, nameOrArn));
      if (run) found.push(run);
    }
    if (found.length > 1)
      throw ambiguousName(
        nameOrArn,
        found.map((r) => r.executionArn),
      );
    return found[0];
  }

  async start(machine: string, name: string, input: object): Promise<WorkflowRun> {
    const started = await this.options.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: await this.machineArn(machine),
        name,
        input: JSON.stringify(input),
      }),
    );
    return {
      executionArn: started.executionArn ?? '',
      name,
      machine,
      status: 'RUNNING',
      startDate: (started.startDate ?? new Date()).toISOString(),
      input,
      ...linksOf(input),
    };
  }

  async redrive(run: WorkflowRun): Promise<WorkflowRun> {
    const redriven = await this.options.sfn.send(
      new RedriveExecutionCommand({ executionArn: run.executionArn }),
    );
    const { stopDate: _ended, error: _error, cause: _cause, ...rest } = run;
    return {
      ...rest,
      status: 'RUNNING',
      redriveCount: (run.redriveCount ?? 0) + 1,
      redriveDate: (redriven.redriveDate ?? new Date()).toISOString(),
    };
  }

  async audit(events: AuditEvent[]): Promise<void> {
    this.sink ??= this.options.audit();
    await (await this.sink).publish(events);
  }

  private async describe(executionArn: string): Promise<WorkflowRun> {
    const out = await this.options.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return this.describedRun(out, await this.arns());
  }

  private async describeIfAny(executionArn: string): Promise<WorkflowRun | undefined> {
    try {
      return await this.describe(executionArn);
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }

  private async machineArn(machine: string): Promise<string> {
    const arn = (await this.arns()).get(machine);
    if (!arn) throw new Error(`no state machine ${machine} in trust-bridge: rotate-svids or sync-secrets`);
    return arn;
  }

  /** The deployment's state machines, by their own names, from the stack's outputs. */
  private arns(): Promise<Map<string, string>> {
    this.machineArns ??= (async () => {
      const machines = Object.entries(STATE_MACHINE_OUTPUTS);
      const outputs = await this.options.stack.outputs(...machines.map(([, output]) => output));
      return new Map(machines.map(([machine, output]) => [machine, outputs[output]]));
    })();
    return this.machineArns;
  }

  private listedRun(machine: string, item: ExecutionListItem): WorkflowRun {
    return {
      executionArn: item.executionArn ?? '',
      name: item.name ?? '',
      machine,
      status: (item.status ?? 'RUNNING') as RunStatus,
      startDate: (item.startDate ?? new Date(0)).toISOString(),
      ...(item.stopDate ? { stopDate: item.stopDate.toISOString() } : {}),
      ...(item.redriveCount ? { redriveCount: item.redriveCount } : {}),
      ...(item.redriveDate ? { redriveDate: item.redriveDate.toISOString() } : {}),
    };
  }

  /** A described run, its machine named as the stack's outputs name it (else by its deployed name). */
  private describedRun(out: DescribeExecutionCommandOutput, arns: Map<string, string>): WorkflowRun {
    const input = parseJson(out.input);
    const stateMachineArn = out.stateMachineArn ?? '';
    const machine =
      [...arns].find(([, arn]) => arn === stateMachineArn)?.[0] ??
      stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1);
    return {
      executionArn: out.executionArn ?? '',
      name: out.name ?? '',
      machine,
      status: (out.status ?? 'RUNNING') as RunStatus,
      startDate: (out.startDate ?? new Date(0)).toISOString(),
      ...(out.stopDate ? { stopDate: out.stopDate.toISOString() } : {}),
      ...(out.error !== undefined ? { error: out.error } : {}),
      ...(out.cause !== undefined ? { cause: out.cause } : {}),
      ...(input !== undefined ? { input } : {}),
      ...(out.output !== undefined ? { output: parseJson(out.output) } : {}),
      ...linksOf(input),
      ...(out.redriveCount ? { redriveCount: out.redriveCount } : {}),
      ...(out.redriveDate ? { redriveDate: out.redriveDate.toISOString() } : {}),
    };
  }
}

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** Maps with at most `limit` calls in flight, keeping the order. */
const mapLimited = async <T, R>(items: T[], limit: number, fn: (item: T) => R | Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};
