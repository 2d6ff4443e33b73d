import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import { parseReplay } from '../table';

/** The workflows an operator starts, by the short name the CLI takes, and their chunk machines. */
export const WORKFLOWS = { rotate: 'rotate-svids', sync: 'sync-secrets' } as const;
export type Workflow = (typeof WORKFLOWS)[keyof typeof WORKFLOWS];
export const CHUNK_MACHINES: Record<Workflow, string> = {
  'rotate-svids': 'rotate-svids-chunk',
  'sync-secrets': 'sync-secrets-chunk',
};
export const ALL_MACHINES = [...Object.values(WORKFLOWS), ...Object.values(CHUNK_MACHINES)];

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
  close(): Promise<void>;
}

/** The input fields that link a run to what it came from, as the engine and AWS read them. */
export const linksOf = (input: unknown): Pick<WorkflowRun, 'parentExecutionArn' | 'replayOf'> => {
  const fields = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const parent = fields.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
  return {
    ...(typeof parent === 'string' ? { parentExecutionArn: parent } : {}),
    ...(typeof fields.replayOf === 'string' ? { replayOf: fields.replayOf } : {}),
  };
};

/** The ARN of another execution of the same state machine. */
export const siblingExecutionArn = (executionArn: string, name: string): string =>
  `${executionArn.slice(0, executionArn.lastIndexOf(':'))}:${name}`;

/** An execution's ARN from its state machine's ARN, as AWS forms it. */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** What re-runs a failed run's items: its cause's accounts, plus `secret` (sync) or `force` (rotation). */
export interface ReplayItems {
  accounts: string[];
  secret?: string;
  force?: boolean;
}

/** The replay input a failed run's cause carries; undefined when the failure lay outside the fan-out. */
export const replayItemsOf = (cause: string | undefined): ReplayItems | undefined => {
  const replay = parseReplay(cause);
  if (!replay) return undefined;
  const { force } = JSON.parse(cause ?? '{}') as { force?: unknown };
  return { ...replay, ...(typeof force === 'boolean' ? { force } : {}) };
};

const EXECUTION_NAME_MAX = 80;
const REPLAY_SUFFIX = '-replay';

/** Whether a name is one replayNameOf gives. */
export const isReplayName = (name: string): boolean => name.endsWith(REPLAY_SUFFIX);

/**
 * The one name a replay of `name` gets, so a second replay of the same run finds the first. Over 80 characters,
 * the name is cut and a hash of the whole keeps it unique. The characters are the original's, which AWS took.
 */
export const replayNameOf = (name: string): string => {
  const plain = `${name}${REPLAY_SUFFIX}`;
  if (plain.length <= EXECUTION_NAME_MAX) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  // Cut by code point, so a name with characters outside the BMP is never split inside one.
  const head = [...name].slice(0, EXECUTION_NAME_MAX - REPLAY_SUFFIX.length - hash.length - 1).join('');
  return `${head}-${hash}${REPLAY_SUFFIX}`;
};
