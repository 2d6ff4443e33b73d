import { createHash } from 'node:crypto';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { cloneJson, isDistributedMap, isJsonObject, type JsonObject, statesOf } from './asl';
import type { MapConcurrencyCheck } from './execution-watch';
import { parseReferencePath } from './reference-path';
import { LAMBDA_MAX_TIMEOUT_MS } from './task-binding';

/** setTimeout's longest delay: the engine's default 60 s Task timeout is replaced by this (AWS has none). */
const NO_TASK_TIMEOUT_SECONDS = 2_147_483;

/**
 * The Task a Distributed Map becomes for the engine, which would run its ItemProcessor inline: its handler, bound
 * by the adapter under this resource (which no caller can bind), runs the Map Run as child executions.
 */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMapRun';

/** The fields a Distributed Map keeps as the Task: input and output processing, error handling, transition. */
const KEPT_FIELDS = [
  'Comment',
  'InputPath',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Next',
  'End',
];

export interface BoundTask {
  stateName: string;
  resource: string;
  timeoutMs: number;
}

/** A Distributed Map of a machine: its definition, and the hidden machine its child executions run. */
export interface MapRunPlan {
  state: JsonObject;
  child: RegisteredMachine;
}

export interface RegisteredMachine {
  name: string;
  arn: string;
  roleArn: string;
  engine: StateMachine;
  tasks: BoundTask[];
  mapChecks: Map<string, MapConcurrencyCheck>;
  delayOverrides: Pick<NonNullable<RunOptions['overrides']>, 'waitTimeOverrides' | 'retryIntervalOverrides'>;
  executionNames: Set<string>;
  /** The machine's own Distributed Maps (not those of its children), by state name. */
  mapRuns: Map<string, MapRunPlan>;
}

/**
 * On a Map state, States.TaskFailed matches nothing (it is the Task wildcard); the engine would match it on the Task
 * a Distributed Map becomes, so it is taken out of the Task's Retry and Catch.
 */
const withoutTaskWildcard = (rules: JsonObject['Retry']) =>
  Array.isArray(rules)
    ? rules.map((rule) =>
        isJsonObject(rule) && Array.isArray(rule.ErrorEquals)
          ? { ...rule, ErrorEquals: rule.ErrorEquals.filter((error) => error !== 'States.TaskFailed') }
          : rule,
      )
    : rules;

const asMapRunTask = (state: JsonObject) => {
  const kept = Object.fromEntries(KEPT_FIELDS.filter((f) => f in state).map((f) => [f, state[f] ?? null]));
  for (const key of Object.keys(state)) delete state[key];
  Object.assign(state, kept, { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE });
  if ('Retry' in kept) state.Retry = withoutTaskWildcard(kept.Retry);
  if ('Catch' in kept) state.Catch = withoutTaskWildcard(kept.Catch);
};

/**
 * Copies the definition for the engine: each Distributed Map of this machine becomes a map-run Task, and no Task
 * keeps the engine's 60 s default timeout, which AWS does not have.
 */
const forEngine = (definition: JsonObject): JsonObject => {
  const copy = cloneJson(definition);
  for (const { state } of ownDistributedMaps(copy)) asMapRunTask(state);
  for (const { state } of statesOf(copy)) {
    if (
      state.Type === 'Task' &&
      state.TimeoutSeconds === undefined &&
      state.TimeoutSecondsPath === undefined
    ) {
      state.TimeoutSeconds = NO_TASK_TIMEOUT_SECONDS;
    }
  }
  return copy;
};

/** The Distributed Maps whose Map Runs this machine's executions start (not those inside their ItemProcessors). */
export const ownDistributedMaps = (machine: JsonObject): { name: string; state: JsonObject }[] => {
  const found: { name: string; state: JsonObject }[] = [];
  const walk = (states: JsonObject) => {
    for (const [name, state] of Object.entries(states)) {
      if (!isJsonObject(state)) continue;
      if (isDistributedMap(state)) found.push({ name, state });
      else if (state.Type === 'Map') walkMachine(state.ItemProcessor ?? state.Iterator);
      else if (state.Type === 'Parallel' && Array.isArray(state.Branches))
        state.Branches.forEach(walkMachine);
    }
  };
  const walkMachine = (inner: JsonObject[string] | undefined) => {
    if (isJsonObject(inner) && isJsonObject(inner.States)) walk(inner.States);
  };
  walkMachine(machine);
  return found;
};

/** Every Task of the engine's definition, nested ones included: each gets a local handler, so none reaches AWS. */
const boundTasks = (definition: JsonObject): BoundTask[] =>
  statesOf(definition).flatMap(({ name, state }) =>
    state.Type === 'Task' && typeof state.Resource === 'string'
      ? [
          {
            stateName: name,
            resource: state.Resource,
            timeoutMs:
              typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds * 1000 : LAMBDA_MAX_TIMEOUT_MS,
          },
        ]
      : [],
  );

const mapConcurrencyChecks = (definition: JsonObject) => {
  const checks = new Map<string, MapConcurrencyCheck>();
  for (const { name, state } of statesOf(definition)) {
    const path =
      state.Type === 'Map' && typeof state.MaxConcurrencyPath === 'string' ? state.MaxConcurrencyPath : '';
    const maxConcurrencyPath = parseReferencePath(path);
    if (!maxConcurrencyPath) continue;
    const inputPath = typeof state.InputPath === 'string' ? parseReferencePath(state.InputPath) : undefined;
    checks.set(name, { inputPath: state.InputPath === null ? null : inputPath, maxConcurrencyPath });
  }
  return checks;
};

const zeroDelayOverrides = (definition: JsonObject): RegisteredMachine['delayOverrides'] => {
  const states = statesOf(definition);
  const zeroFor = (names: string[]) => Object.fromEntries(names.map((name) => [name, 0]));
  return {
    waitTimeOverrides: zeroFor(states.filter((v) => v.state.Type === 'Wait').map((v) => v.name)),
    retryIntervalOverrides: zeroFor(states.filter((v) => Array.isArray(v.state.Retry)).map((v) => v.name)),
  };
};

/** A Map Run label AWS would generate when the definition gives none: stable per state machine and state. */
const generatedLabel = (machineName: string, stateName: string) => {
  const hex = createHash('md5').update(`${machineName}\u0000${stateName}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-3${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

export interface MachineIdentity {
  name: string;
  arn: string;
  roleArn: string;
  zeroDelays: boolean;
}

/**
 * Prepares a checked definition to run: the engine's copy, its Task bindings and checks, and for each Distributed
 * Map a hidden machine `<name>/<label>` (ARN `...:stateMachine:<name>/<label>`, as AWS names a Map Run's child
 * executions' state machine) built the same way from its ItemProcessor.
 */
export const buildMachine = (identity: MachineIdentity, definition: JsonObject): RegisteredMachine => {
  const engineDefinition = forEngine(definition);
  const mapRuns = new Map<string, MapRunPlan>();
  for (const { name, state } of ownDistributedMaps(definition)) {
    const label = typeof state.Label === 'string' ? state.Label : generatedLabel(identity.name, name);
    const processor = cloneJson(isJsonObject(state.ItemProcessor) ? state.ItemProcessor : {});
    delete processor.ProcessorConfig;
    const child = buildMachine(
      { ...identity, name: `${identity.name}/${label}`, arn: `${identity.arn}/${label}` },
      processor,
    );
    mapRuns.set(name, { state, child });
  }
  return {
    name: identity.name,
    arn: identity.arn,
    roleArn: identity.roleArn,
    engine: new StateMachine(engineDefinition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    }),
    tasks: boundTasks(engineDefinition),
    mapChecks: mapConcurrencyChecks(engineDefinition),
    delayOverrides: identity.zeroDelays ? zeroDelayOverrides(engineDefinition) : {},
    executionNames: new Set(),
    mapRuns,
  };
};
