import type { AuditEvent } from '../../functions/shared/domain/audit';

/** The workflows an operator starts, by the short name the CLI takes, and their chunk machines. */
export const WORKFLOWS = { rotate: 'rotate-svids', sync: 'sync-secrets' } as const;
export type Workflow = (typeof WORKFLOWS)[keyof typeof WORKFLOWS];
export const CHUNK_MACHINES: Record<Workflow, string> = {
  'rotate-svids': 'rotate-svids-chunk',
  'sync-secrets': 'sync-secrets-chunk',
};
export const ALL_MACHINES = [...Object.values(WORKFLOWS), ...Object.values(CHUNK_MACHINES)];

/** `--state-machine rotate|sync` (the deployed names are accepted too); both when absent. */
export const workflowsOf = (given: string | undefined) => {
  const all = Object.values(WORKFLOWS);
  if (given === undefined) return all;
  const workflow = WORKFLOWS[given as keyof typeof WORKFLOWS] ?? all.find((w) => w === given);
  if (!workflow) return new Error(`--state-machine ${JSON.stringify(given)}: rotate or sync`);
  return [workflow];
};

export const RUN_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One execution as the operator commands show it, wherever it ran. Dates are ISO-8601. */
export interface WorkflowRun {
  executionArn: string;
  name: string;
  /** The state machine's own name (rotate-svids, sync-secrets-chunk…), without the deployment's prefix. */
  machine: string;
  status: RunStatus;
  startDate: string;
  stopDate?: string;
  error?: string;
  cause?: string;
  /** Absent when only listed on AWS (ListExecutions gives no input); described runs carry it. */
  input?: unknown;
  output?: unknown;
  /** The run that started this one as a chunk. */
  parentExecutionArn?: string;
  /** The run whose failed items this one replays (its `replayOf` input). */
  replayOf?: string;
  redriveCount?: number;
  redriveDate?: string;
}

export interface RunQuery {
  /** State machine names (rotate-svids…), newest runs first across them. */
  machines: string[];
  status?: RunStatus;
  /** Runs started at or after this time only. */
  since?: Date;
  /** Called with the number of runs listed so far (a progress line). */
  onProgress?: (listed: number) => void;
}

/**
 * The executions of the deployed workflows, and what an operator may do with them: on the embedded default
 * (execution records under the data directory, runs on the local stack) or on AWS Step Functions.
 */
export interface WorkflowRuns {
  list(query: RunQuery): Promise<WorkflowRun[]>;
  /** A run by name or ARN, described (input included); undefined when there is none. */
  find(nameOrArn: string): Promise<WorkflowRun | undefined>;
  /**
   * Starts a new execution. Locally it waits for its end; on AWS it returns the RUNNING run. Rejects with an
   * error named ExecutionAlreadyExists when the name is taken.
   */
  start(machine: string, name: string, input: object): Promise<WorkflowRun>;
  /** Redrives a failed top-level run under its own ARN (locally: to its end). */
  redrive(run: WorkflowRun): Promise<WorkflowRun>;
  /** Puts audit events on the audit bus. */
  audit(events: AuditEvent[]): Promise<void>;
}

/** The order every listing gives: newest first. */
export const newestFirst = (a: WorkflowRun, b: WorkflowRun): number => b.startDate.localeCompare(a.startDate);

/** The input fields that link a run to what it came from, as the engine and AWS read them. */
export const linksOf = (input: unknown): Pick<WorkflowRun, 'parentExecutionArn' | 'replayOf'> => {
  const fields = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const parent = fields.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
  return {
    ...(typeof parent === 'string' ? { parentExecutionArn: parent } : {}),
    ...(typeof fields.replayOf === 'string' ? { replayOf: fields.replayOf } : {}),
  };
};
