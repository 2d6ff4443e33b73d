import { randomUUID } from 'node:crypto';
import { ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
import { isJsonObject, type Json, type JsonObject, substitutePlaceholders } from './asl';
import { definitionProblems } from './definition-rules';
import { DISTRIBUTED_MAP_LIMITS, type DistributedMapLimits } from './distributed-map/limits';
import { runMapRun } from './distributed-map/map-run';
import { PayloadTemplates } from './distributed-map/payload-template';
import type { S3Api } from './distributed-map/s3';
import {
  describeForParent,
  type ExecutionRecord,
  type ExecutionStatus,
  type RunningExecution,
  StepFunctionsApiError,
} from './execution-record';
import { ExecutionWatch, type StatePayloadObserver } from './execution-watch';
import { CHILD_EXECUTION_CALL_EVENTS, LAMBDA_CALL_EVENTS, MAP_RUN_EVENTS } from './history';
import { AWS_LIMITS, type EngineLimits, serializeWithinLimit } from './limits';
import {
  type BoundTask,
  buildMachine,
  DISTRIBUTED_MAP_RESOURCE,
  type RegisteredMachine,
} from './registered-machine';
import { lambdaContext, lambdaFailureOf, TaskFailure, type TaskHandler } from './task-binding';

export interface LocalStepFunctionsOptions {
  region?: string;
  accountId?: string;
  /** Every Wait and every Retry interval takes 0 ms (tests, the local runtime). */
  zeroDelays?: boolean;
  /** Lower them in tests to prove enforcement; defaults are AWS's quotas. */
  limits?: Partial<EngineLimits>;
  /**
   * Called as each execution starts, before its first state: awaited, so a record of it can be on disk before
   * it changes anything (an execution whose process dies then leaves a trace). A rejection fails the start.
   */
  onExecutionStarted?: (execution: RunningExecution) => void | Promise<void>;
  /** Called with every finished execution, e.g. to persist it. */
  onExecutionRecorded?: (record: ExecutionRecord) => void | Promise<void>;
  /** Sees every state's input and output, as AWS keeps them in the execution history (e.g. to audit them). */
  onStatePayload?: StatePayloadObserver;
  /**
   * The S3 client a Distributed Map's ItemReader (GetObject) and ResultWriter (PutObject) call: an SDK S3Client on
   * AWS, the local stack's stand-in at home. A definition that reads or writes S3 is refused without one.
   */
  s3?: S3Api;
  /** Lower them in tests to prove enforcement; defaults are AWS's Distributed Map quotas. */
  distributedMapLimits?: Partial<DistributedMapLimits>;
  /**
   * How many child executions of one Map Run run at once in this process, below the Map's MaxConcurrency (AWS
   * allows 10,000): each holds an engine run in memory. Default 1,000.
   */
  childExecutionsAtOnce?: number;
}

export interface RegisterOptions {
  /** Values for `${Placeholder}` strings, as serverless.yml's DefinitionSubstitutions on AWS. */
  substitutions?: Record<string, string>;
  /** Shown as $$.Execution.RoleArn; defaults to a role named after the state machine. */
  roleArn?: string;
}

export interface ExecutionFilter {
  stateMachineName?: string;
  status?: ExecutionStatus;
  /** The child executions of one Map Run, as ListExecutions with mapRunArn lists them. */
  mapRunArn?: string;
}

/** The child-execution integrations the engine itself provides; `true` when the output is JSON (`:2`). */
const CHILD_EXECUTION_RESOURCES: Record<string, boolean> = {
  'arn:aws:states:::states:startExecution.sync': false,
  'arn:aws:states:::states:startExecution.sync:2': true,
};

/** The Lambda service integration: the engine calls the function bound to the request's FunctionName. */
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** A function binding whose account is `*` serves that function name in every account (an agent per account). */
const ANY_ACCOUNT = /^(arn:aws:lambda:[^:]+:)\d{12}(:function:.+)$/;

/** AWS redrives an execution only within 14 days of its end. */
const REDRIVE_WINDOW_MS = 14 * 24 * 3_600_000;

/** AWS execution names: 1–80 characters, no whitespace, brackets, wildcards or punctuation it reserves. */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

type EngineTaskHandler = (input: Json) => Promise<Json>;

/** The execution a Task runs in: its machine, and its context object (what `$$` selects). */
interface TaskScope {
  machine: RegisteredMachine;
  context: JsonObject;
}

const parseDefinition = (name: string, definition: string | object): Json => {
  try {
    return JSON.parse(typeof definition === 'string' ? definition : JSON.stringify(definition));
  } catch (error) {
    throw new StepFunctionsApiError(
      'InvalidDefinition',
      `State machine "${name}": the definition is not JSON (${error})`,
    );
  }
};

const failureOf = (thrown: unknown): { error: string; cause: string } => {
  if (thrown instanceof ExecutionTimeoutError) {
    return { error: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' };
  }
  const error = thrown instanceof ExecutionError ? thrown.cause : thrown;
  if (error instanceof Error) return { error: error.name, cause: error.message };
  return { error: 'States.Runtime', cause: String(error) };
};

const startedBy = (input: Json): string | undefined => {
  const parent = isJsonObject(input) ? input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID : undefined;
  return typeof parent === 'string' ? parent : undefined;
};

/**
 * Runs the project's ASL state machines in process on aws-local-stepfunctions 3.0.0, with every Task bound to
 * local handler code, AWS's quotas enforced, and what the engine would silently get wrong refused up front.
 *
 * Known engine gap, not relied on: when one Map iteration fails, the Map fails at once, but iterations already
 * running are not cancelled and queued ones still start. The adapter aborts them when the execution ends and
 * refuses their later Tasks, but a handler already running finishes in the background.
 */
export class LocalStepFunctions {
  private readonly region: string;
  private readonly accountId: string;
  private readonly zeroDelays: boolean;
  private readonly limits: EngineLimits;
  private readonly onExecutionStarted: LocalStepFunctionsOptions['onExecutionStarted'];
  private readonly onExecutionRecorded: LocalStepFunctionsOptions['onExecutionRecorded'];
  private readonly onStatePayload: LocalStepFunctionsOptions['onStatePayload'];
  private readonly s3: S3Api | undefined;
  private readonly distributedMapLimits: DistributedMapLimits;
  private readonly childExecutionsAtOnce: number;
  private readonly templates = new PayloadTemplates();
  private readonly openMapRuns = { count: 0 };
  private readonly bindings = new Map<string, TaskHandler>();
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly records = new Map<string, ExecutionRecord>();
  private executionTotal = 0;
  private transitionTotal = 0;
  private historyEventTotal = 0;

  constructor(options: LocalStepFunctionsOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.zeroDelays = options.zeroDelays ?? false;
    this.limits = { ...AWS_LIMITS, ...options.limits };
    this.onExecutionStarted = options.onExecutionStarted;
    this.onExecutionRecorded = options.onExecutionRecorded;
    this.onStatePayload = options.onStatePayload;
    this.s3 = options.s3;
    this.distributedMapLimits = { ...DISTRIBUTED_MAP_LIMITS, ...options.distributedMapLimits };
    this.childExecutionsAtOnce = options.childExecutionsAtOnce ?? 1_000;
  }

  /**
   * Binds a Task `Resource` (after substitution) to a Lambda-style handler; a later call replaces it. A function
   * ARN is also what `lambda:invoke` Tasks call by FunctionName; `arn:aws:lambda:<region>:*:function:<name>` binds
   * that function in every account.
   */
  bindResource<TInput>(resourceArn: string, handler: TaskHandler<TInput>): void {
    if (
      resourceArn in CHILD_EXECUTION_RESOURCES ||
      resourceArn === LAMBDA_INVOKE ||
      resourceArn === DISTRIBUTED_MAP_RESOURCE
    ) {
      throw new StepFunctionsApiError(
        'InvalidArn',
        `${resourceArn} is provided by the engine and cannot be rebound`,
      );
    }
    this.bindings.set(resourceArn, handler);
  }

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  /** Substitutes placeholders, refuses what would not behave as on AWS, and returns the state machine ARN. */
  registerStateMachine(name: string, definitionJson: string | object, options: RegisterOptions = {}): string {
    if (this.machines.has(name)) {
      throw new StepFunctionsApiError(
        'StateMachineAlreadyExists',
        `State machine "${name}" is already registered`,
      );
    }
    const definition = substitutePlaceholders(
      parseDefinition(name, definitionJson),
      options.substitutions ?? {},
    );
    if (!isJsonObject(definition)) {
      throw new StepFunctionsApiError(
        'InvalidDefinition',
        `State machine "${name}": the definition is not an object`,
      );
    }
    const problems = definitionProblems(definition, {
      isBound: (resource) =>
        resource in CHILD_EXECUTION_RESOURCES || resource === LAMBDA_INVOKE || this.bindings.has(resource),
      mapConcurrency: this.limits.mapConcurrency,
      hasS3: this.s3 !== undefined,
      distributedMapLimits: this.distributedMapLimits,
    });
    if (problems.length > 0) {
      throw new StepFunctionsApiError(
        'InvalidDefinition',
        `State machine "${name}" cannot run locally as it would on AWS:\n- ${problems.join('\n- ')}`,
      );
    }
    const arn = this.stateMachineArn(name);
    const roleArn = options.roleArn ?? `arn:aws:iam::${this.accountId}:role/${name}`;
    this.machines.set(name, buildMachine({ name, arn, roleArn, zeroDelays: this.zeroDelays }, definition));
    return arn;
  }

  /** Runs an execution to its end. Rejects only when AWS's StartExecution would (unknown machine, bad name). */
  async startExecution(
    stateMachineName: string,
    input: unknown,
    options: { name?: string } = {},
  ): Promise<ExecutionRecord> {
    const machine = this.machines.get(stateMachineName);
    if (!machine) {
      throw new StepFunctionsApiError(
        'StateMachineDoesNotExist',
        `State machine "${stateMachineName}" does not exist`,
      );
    }
    return this.execute(machine, JSON.parse(JSON.stringify(input ?? {})), options.name);
  }

  /**
   * Takes back executions recorded before (e.g. by an earlier process over the same data directory), so
   * describeExecution and listExecutions see them and their names stay taken, as AWS keeps a name for 90 days.
   * One still running elsewhere only keeps its name.
   */
  restoreExecutions(records: Iterable<ExecutionRecord | RunningExecution>): void {
    for (const record of records) {
      if (record.status !== 'RUNNING') this.records.set(record.executionArn, record);
      this.machines.get(record.stateMachineName)?.executionNames.add(record.name);
    }
  }

  /**
   * RedriveExecution: runs a FAILED or ABORTED top-level execution again under the same ARN, with the same input,
   * and waits for it to end. AWS reruns only the failed steps; here the whole run is repeated, which the
   * idempotent steps make equivalent. Refused, as on AWS, for an execution that succeeded or ended over 14 days
   * ago.
   */
  async redriveExecution(executionArn: string): Promise<ExecutionRecord> {
    const previous = this.describeExecution(executionArn);
    const machine = this.machines.get(previous.stateMachineName);
    if (!machine) {
      throw new StepFunctionsApiError(
        'StateMachineDoesNotExist',
        `State machine "${previous.stateMachineName}" does not exist`,
      );
    }
    const refusal =
      previous.status === 'SUCCEEDED'
        ? 'it is SUCCEEDED, not FAILED or ABORTED'
        : previous.mapRunArn
          ? `it is a child execution of the Map Run ${previous.mapRunArn}: redrive its parent`
          : previous.parentExecutionArn
            ? `it was started by ${previous.parentExecutionArn}: redrive that one`
            : Date.now() - Date.parse(previous.stopDate) > REDRIVE_WINDOW_MS
              ? 'it ended more than 14 days ago'
              : undefined;
    if (refusal) {
      throw new StepFunctionsApiError(
        'ExecutionNotRedrivable',
        `Execution ${executionArn} cannot be redriven: ${refusal}`,
      );
    }
    return this.execute(machine, previous.input as Json, previous.name, previous);
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const record = this.records.get(executionArn);
    if (!record)
      throw new StepFunctionsApiError('ExecutionDoesNotExist', `Execution ${executionArn} does not exist`);
    return record;
  }

  /** Finished executions, newest first. */
  listExecutions(filter: ExecutionFilter = {}): ExecutionRecord[] {
    return [...this.records.values()]
      .filter((r) => filter.stateMachineName === undefined || r.stateMachineName === filter.stateMachineName)
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .filter((r) => filter.mapRunArn === undefined || r.mapRunArn === filter.mapRunArn)
      .sort((a, b) => b.startDate.localeCompare(a.startDate));
  }

  totals(): { executions: number; stateTransitions: number; historyEvents: number } {
    return {
      executions: this.executionTotal,
      stateTransitions: this.transitionTotal,
      historyEvents: this.historyEventTotal,
    };
  }

  private async execute(
    machine: RegisteredMachine,
    input: Json,
    requestedName?: string,
    redriven?: ExecutionRecord,
    mapRunArn?: string,
  ): Promise<ExecutionRecord> {
    const name = requestedName ?? randomUUID();
    if (!EXECUTION_NAME.test(name)) {
      throw new StepFunctionsApiError('InvalidName', `Invalid execution name: ${JSON.stringify(name)}`);
    }
    if (!redriven && machine.executionNames.has(name)) {
      throw new StepFunctionsApiError(
        'ExecutionAlreadyExists',
        `Execution "${name}" already exists for state machine "${machine.name}"`,
      );
    }
    machine.executionNames.add(name);
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    // A redriven execution keeps its start date, as on AWS; its redrive count and date tell the rerun.
    const startDate = redriven?.startDate ?? new Date().toISOString();
    const redrive = redriven
      ? { redriveCount: (redriven.redriveCount ?? 0) + 1, redriveDate: new Date().toISOString() }
      : undefined;
    const parentExecutionArn = startedBy(input);
    await this.onExecutionStarted?.({
      executionArn,
      name,
      stateMachineName: machine.name,
      stateMachineArn: machine.arn,
      status: 'RUNNING',
      input,
      startDate,
      ...(parentExecutionArn ? { parentExecutionArn } : {}),
      ...(mapRunArn ? { mapRunArn } : {}),
      ...redrive,
    });
    const context = {
      Execution: {
        Id: executionArn,
        Name: name,
        RoleArn: machine.roleArn,
        StartTime: startDate,
        RedriveCount: redrive?.redriveCount ?? 0,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
    };
    let abort = () => {};
    const watch = new ExecutionWatch(
      this.limits,
      machine.mapChecks,
      context,
      () => abort(),
      this.onStatePayload,
    );
    const taskResourceLocalHandlers = Object.fromEntries(
      machine.tasks.map((task): [string, EngineTaskHandler] => [
        task.stateName,
        (args) =>
          this.runTask(task, args, watch, {
            machine,
            context: { ...context, Execution: { ...context.Execution, Input: input } },
          }),
      ]),
    );
    const run = machine.engine.run(input, {
      overrides: { taskResourceLocalHandlers, ...machine.delayOverrides },
      context,
    });
    abort = run.abort;
    const following = watch.follow(run.eventLogs);
    const outcome = await run.result.then(
      (output) => ({ status: 'SUCCEEDED' as const, output }),
      (thrown: unknown) => ({ status: 'FAILED' as const, ...failureOf(thrown) }),
    );
    watch.end();
    // Stops what the engine leaves running after a failed Map: iteration loops, Wait and Retry sleeps.
    run.abort();
    await following;
    const failure = watch.failure;
    const record: ExecutionRecord = {
      executionArn,
      name,
      stateMachineName: machine.name,
      stateMachineArn: machine.arn,
      input,
      ...(failure ? { status: 'FAILED', error: failure.name, cause: failure.message } : outcome),
      startDate,
      stopDate: new Date().toISOString(),
      historyEventCount: watch.historyEvents,
      stateTransitions: watch.stateTransitions,
      ...(parentExecutionArn ? { parentExecutionArn } : {}),
      ...(mapRunArn ? { mapRunArn } : {}),
      ...redrive,
    };
    this.records.set(executionArn, record);
    this.executionTotal += 1;
    this.transitionTotal += record.stateTransitions;
    this.historyEventTotal += record.historyEventCount;
    await this.onExecutionRecorded?.(record);
    return record;
  }

  private async runTask(
    task: BoundTask,
    input: Json,
    watch: ExecutionWatch,
    scope: TaskScope,
  ): Promise<Json> {
    const childOutputIsJson = CHILD_EXECUTION_RESOURCES[task.resource];
    const isMapRun = task.resource === DISTRIBUTED_MAP_RESOURCE;
    await watch.admitTask(
      isMapRun
        ? MAP_RUN_EVENTS
        : childOutputIsJson === undefined
          ? LAMBDA_CALL_EVENTS
          : CHILD_EXECUTION_CALL_EVENTS,
    );
    const what = `${isMapRun ? 'Map' : 'Task'} "${task.stateName}"`;
    // A fresh copy, as a Lambda gets its own deserialized event.
    const event = JSON.parse(
      watch.enforce(() => serializeWithinLimit(input, `The input of ${what}`, this.limits)),
    );
    const result = isMapRun
      ? await this.runMapRun(task.stateName, event, watch, scope)
      : childOutputIsJson !== undefined
        ? await this.runChildExecution(event, childOutputIsJson)
        : task.resource === LAMBDA_INVOKE
          ? await this.invokeFunction(task, event)
          : await this.invokeBinding(task.resource, task.timeoutMs, event);
    return JSON.parse(
      watch.enforce(() => serializeWithinLimit(result, `The result of ${what}`, this.limits)),
    );
  }

  /** A Distributed Map: one Map Run, its items run as child executions of the hidden ItemProcessor machine. */
  private runMapRun(stateName: string, input: Json, watch: ExecutionWatch, scope: TaskScope): Promise<Json> {
    const plan = scope.machine.mapRuns.get(stateName)!;
    const mapRunArn = `arn:aws:states:${this.region}:${this.accountId}:mapRun:${plan.child.name}:${randomUUID()}`;
    return runMapRun(
      {
        s3: this.s3,
        limits: this.distributedMapLimits,
        childExecutionsAtOnce: this.childExecutionsAtOnce,
        templates: this.templates,
        openMapRuns: this.openMapRuns,
        startChild: (childInput, arn) => this.execute(plan.child, childInput, undefined, undefined, arn),
        parentIsOver: () => watch.isOver,
      },
      { state: plan.state, input, context: scope.context, mapRunArn },
    );
  }

  private async invokeBinding(resource: string, timeoutMs: number, event: Json): Promise<unknown> {
    const handler = this.bindings.get(resource) ?? this.bindings.get(resource.replace(ANY_ACCOUNT, '$1*$2'));
    if (!handler) throw new TaskFailure('States.Runtime', `No local binding for ${resource}`);
    try {
      return await handler(event, lambdaContext(resource, timeoutMs));
    } catch (thrown) {
      throw lambdaFailureOf(thrown);
    }
  }

  /** `lambda:invoke`: calls the function named by FunctionName and answers as the AWS integration does. */
  private async invokeFunction(task: BoundTask, request: Json): Promise<unknown> {
    const parameters = isJsonObject(request) ? request : {};
    const functionArn = parameters.FunctionName;
    if (typeof functionArn !== 'string' || !ANY_ACCOUNT.test(functionArn)) {
      throw new TaskFailure(
        'Lambda.ResourceNotFoundException',
        `FunctionName must be a function ARN locally, not ${JSON.stringify(functionArn)}`,
      );
    }
    const payload = await this.invokeBinding(functionArn, task.timeoutMs, parameters.Payload ?? {});
    return { ExecutedVersion: '$LATEST', Payload: payload ?? null, StatusCode: 200 };
  }

  /** `states:startExecution.sync(:2)`: runs the child here and answers as the AWS integration does. */
  private async runChildExecution(request: Json, outputIsJson: boolean): Promise<unknown> {
    const parameters = isJsonObject(request) ? request : {};
    const machine = [...this.machines.values()].find((m) => m.arn === parameters.StateMachineArn);
    if (!machine) {
      throw new TaskFailure(
        'StepFunctions.StateMachineDoesNotExistException',
        `State Machine Does Not Exist: '${String(parameters.StateMachineArn)}'`,
      );
    }
    const input = parameters.Input ?? {};
    let childInput: Json;
    try {
      childInput = typeof input === 'string' ? JSON.parse(input) : input;
    } catch {
      throw new TaskFailure(
        'StepFunctions.InvalidExecutionInputException',
        'Invalid State Machine Execution Input',
      );
    }
    const name = typeof parameters.Name === 'string' ? parameters.Name : undefined;
    let record: ExecutionRecord;
    try {
      record = await this.execute(machine, childInput, name);
    } catch (error) {
      if (error instanceof StepFunctionsApiError)
        throw new TaskFailure(`StepFunctions.${error.name}Exception`, error.message);
      throw error;
    }
    const description = describeForParent(record, outputIsJson);
    if (record.status === 'FAILED') throw new TaskFailure('States.TaskFailed', JSON.stringify(description));
    return description;
  }
}
