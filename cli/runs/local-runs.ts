import type { ExecutionRecord, RunningExecution } from '../../engine';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import { readExecutionRecords } from '../../local-stack/execution-records';
import type { LocalStack } from '../../local-stack/stack';
import { linksOf, type RunQuery, type WorkflowRun, type WorkflowRuns } from './workflow-runs';

/**
 * The embedded default's runs: listed and found from the execution records under the data directory (no stack
 * started for that), started and redriven on a local stack opened on first need, which waits for each run.
 */
export class LocalRuns implements WorkflowRuns {
  private stack: Promise<LocalStack> | undefined;
  // Read once per command; a run this command starts or redrives writes a record, so the next read is fresh.
  private records: Promise<(ExecutionRecord | RunningExecution)[]> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly openStack: () => Promise<LocalStack>,
  ) {}

  async list(query: RunQuery): Promise<WorkflowRun[]> {
    const since = query.since?.toISOString();
    const runs = (await this.recorded())
      .filter((r) => query.machines.includes(r.stateMachineName))
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => since === undefined || r.startDate >= since)
      .map(runOf)
      .sort(newestFirst);
    query.onProgress?.(runs.length);
    return runs;
  }

  async find(nameOrArn: string): Promise<WorkflowRun | undefined> {
    const matches = (await this.recorded()).filter(
      (r) => r.executionArn === nameOrArn || r.name === nameOrArn,
    );
    if (matches.length > 1)
      throw ambiguous(
        nameOrArn,
        matches.map((r) => r.executionArn),
      );
    return matches[0] && runOf(matches[0]);
  }

  async start(machine: string, name: string, input: object): Promise<WorkflowRun> {
    const { engine } = await this.opened();
    return this.recording(engine.startExecution(machine, input, { name }));
  }

  async redrive(run: WorkflowRun): Promise<WorkflowRun> {
    return this.recording((await this.opened()).redrive(run.executionArn));
  }

  async audit(events: AuditEvent[]): Promise<void> {
    await (await this.opened()).deps.audit.publish(events);
  }

  async close(): Promise<void> {
    if (this.stack) await (await this.stack).close();
  }

  /** Waits for a run that writes its record, then lets the next read see it. */
  private async recording(execution: Promise<ExecutionRecord>): Promise<WorkflowRun> {
    try {
      return runOf(await execution);
    } finally {
      this.records = undefined;
    }
  }

  private recorded(): Promise<(ExecutionRecord | RunningExecution)[]> {
    this.records ??= readExecutionRecords(this.dataDir);
    return this.records;
  }

  private opened(): Promise<LocalStack> {
    this.stack ??= this.openStack();
    return this.stack;
  }
}

/** A name may be taken in two state machines; the operator then gives the ARN. */
export const ambiguous = (name: string, arns: string[]): Error =>
  new Error(`"${name}" names ${arns.length} executions; give one ARN: ${arns.join(', ')}`);

export const newestFirst = (a: WorkflowRun, b: WorkflowRun): number => b.startDate.localeCompare(a.startDate);

const runOf = (record: ExecutionRecord | RunningExecution): WorkflowRun => ({
  executionArn: record.executionArn,
  name: record.name,
  machine: record.stateMachineName,
  status: record.status,
  startDate: record.startDate,
  ...(record.status !== 'RUNNING'
    ? {
        stopDate: record.stopDate,
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
        ...(record.output !== undefined ? { output: record.output } : {}),
      }
    : {}),
  input: record.input,
  ...linksOf(record.input),
  ...(record.redriveCount !== undefined ? { redriveCount: record.redriveCount } : {}),
  ...(record.redriveDate !== undefined ? { redriveDate: record.redriveDate } : {}),
});
