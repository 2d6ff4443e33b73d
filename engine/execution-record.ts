/** How an execution ended. ABORTED: it was stopped before its end (locally, its process died). */
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** One finished execution, as DescribeExecution would tell it (dates in ISO-8601, JSON values parsed). */
export interface ExecutionRecord {
  executionArn: string;
  name: string;
  stateMachineName: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  /** The error name (what Retry/Catch match), when FAILED. */
  error?: string;
  cause?: string;
  startDate: string;
  stopDate: string;
  historyEventCount: number;
  /** States entered plus retries: what AWS bills for a Standard workflow. */
  stateTransitions: number;
  /** From the input field AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID, as AWS links a child to its parent. */
  parentExecutionArn?: string;
  /** The Map Run that started this child execution, for a Distributed Map's children. */
  mapRunArn?: string;
  /** How many times the execution was redriven (absent: never), and when last, as DescribeExecution tells it. */
  redriveCount?: number;
  redriveDate?: string;
}

/** An execution as it starts, before any state runs: what DescribeExecution tells of a RUNNING one. */
export type RunningExecution = Pick<
  ExecutionRecord,
  | 'executionArn'
  | 'name'
  | 'stateMachineName'
  | 'stateMachineArn'
  | 'input'
  | 'startDate'
  | 'parentExecutionArn'
  | 'mapRunArn'
  | 'redriveCount'
  | 'redriveDate'
> & { status: 'RUNNING' };

export type StepFunctionsApiErrorName =
  | 'InvalidDefinition'
  | 'InvalidName'
  | 'InvalidArn'
  | 'StateMachineAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'ExecutionNotRedrivable';

/** A refused API call, named like the AWS Step Functions API error it mirrors. */
export class StepFunctionsApiError extends Error {
  constructor(
    override readonly name: StepFunctionsApiErrorName,
    message: string,
  ) {
    super(message);
  }
}

/** What a parent's `states:startExecution.sync` Task returns (`.sync:2` gives Input and Output as JSON). */
export const describeForParent = (record: ExecutionRecord, jsonPayloads: boolean) => {
  const payload = (value: unknown) => (jsonPayloads ? value : JSON.stringify(value));
  const outcome =
    record.status === 'SUCCEEDED'
      ? { Output: payload(record.output), OutputDetails: { Included: true } }
      : { Error: record.error, Cause: record.cause };
  return {
    ExecutionArn: record.executionArn,
    Input: payload(record.input),
    InputDetails: { Included: true },
    Name: record.name,
    ...outcome,
    StartDate: Date.parse(record.startDate),
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    StopDate: Date.parse(record.stopDate),
  };
};
