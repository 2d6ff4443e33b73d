import type { ExecutionRecord, RunningExecution } from '../../engine';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import type { LocalStack } from '../../local-stack/stack';
import { ambiguousName } from './execution-names';
import { linksOf, newestFirst, type RunQuery, type WorkflowRun, type WorkflowRuns } from './workflow-runs';

type Recorded = ExecutionRecord | RunningExecution;

/**
 * The embedded default's runs: listed and found from the execution records under the data directory (no stack
 * started for that), started and redriven on the local stack, which waits for each run.
 */
export class LocalRuns implements WorkflowRuns {
  // Read once per command; a run this command starts or redrives writes a record, so the next read is fresh.
  private records: Promise<Recorded[]> | undefined;

  constructor(
    private readonly readRecords: () => Promise<Recorded[]>,
    /** The local stack, opened on first need. */
    private readonly opened: () => Promise<LocalStack>,
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
      throw ambiguousName(
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

  /** Waits for a run that writes its record, then lets the next read see it. */
  private async recording(execution: Promise<ExecutionRecord>): Promise<WorkflowRun> {
    try {
      return runOf(await execution);
    } finally {
      this.records = undefined;
    }
  }

  private recorded(): Promise<Recorded[]> {
    this.records ??= this.readRecords();
    return this.records;
  }
}

const runOf = (record: Recorded): WorkflowRun => ({
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
