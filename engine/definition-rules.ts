import aslValidator from 'asl-validator';
import {
  cloneJson,
  isDistributedMap,
  isJsonObject,
  type JsonObject,
  ownStrings,
  placeholdersIn,
  type StateVisit,
  statesOf,
} from './asl';
import { distributedMapProblems } from './distributed-map/definition-rules';
import type { DistributedMapLimits } from './distributed-map/limits';
import { parseReferencePath } from './reference-path';

/**
 * What aws-local-stepfunctions 3.0.0 ignores or gets wrong without a word. A definition using any of it could
 * pass locally and behave differently on AWS, so registration refuses it.
 */

export interface RuleOptions {
  isBound: (resource: string) => boolean;
  /** Highest MaxConcurrency an inline Map may declare. */
  mapConcurrency: number;
  /** Whether the engine has an S3 client for ItemReader and ResultWriter. */
  hasS3: boolean;
  distributedMapLimits: DistributedMapLimits;
}

const JSONATA_FIELDS = ['Assign', 'Arguments', 'Output', 'Items'];
const DISTRIBUTED_MAP_FIELDS = ['ItemReader', 'ItemBatcher', 'ResultWriter', 'Label'];
const TOLERATED_FAILURE_FIELDS = [
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
];
const HEARTBEAT_FIELDS = ['HeartbeatSeconds', 'HeartbeatSecondsPath'];

const unsupportedFields = (state: JsonObject, fields: string[], why: string) =>
  fields.filter((field) => field in state).map((field) => `field "${field}" ${why}`);

const jsonataProblems = (state: JsonObject): string[] => {
  const problems = unsupportedFields(
    state,
    JSONATA_FIELDS,
    'is not supported (JSONata/variables are ignored)',
  );
  if (state.QueryLanguage !== undefined && state.QueryLanguage !== 'JSONPath') {
    problems.push(
      `field "QueryLanguage" is ${JSON.stringify(state.QueryLanguage)}; only JSONPath runs locally`,
    );
  }
  const rules = [
    ...(Array.isArray(state.Choices) ? state.Choices : []),
    ...(Array.isArray(state.Catch) ? state.Catch : []),
  ];
  for (const rule of rules) {
    if (isJsonObject(rule) && 'Assign' in rule)
      problems.push('field "Assign" in a Choice rule or Catcher is ignored');
  }
  return problems;
};

const resultPathProblems = (state: JsonObject): string[] => {
  const problems: string[] = [];
  const advice = 'misbehaves locally; omit ResultPath to replace the input with the result';
  if (state.ResultPath === '$') problems.push(`field "ResultPath" is "$", which ${advice}`);
  for (const catcher of Array.isArray(state.Catch) ? state.Catch : []) {
    if (isJsonObject(catcher) && catcher.ResultPath === '$') {
      problems.push(`field "Catch[].ResultPath" is "$", which ${advice}`);
    }
  }
  return problems;
};

const mapProblems = (visit: StateVisit, options: RuleOptions): string[] => {
  const { state } = visit;
  if (isDistributedMap(state)) {
    return distributedMapProblems(state, visit.enclosingMap, {
      hasS3: options.hasS3,
      limits: options.distributedMapLimits,
    });
  }
  const problems = [
    ...unsupportedFields(state, DISTRIBUTED_MAP_FIELDS, 'is Distributed Map only and is ignored'),
    ...unsupportedFields(state, TOLERATED_FAILURE_FIELDS, 'is ignored (any failed iteration fails the Map)'),
  ];
  if (typeof state.MaxConcurrencyPath === 'string') {
    const paths = { MaxConcurrencyPath: state.MaxConcurrencyPath, InputPath: state.InputPath };
    for (const [field, path] of Object.entries(paths)) {
      if (typeof path === 'string' && !parseReferencePath(path)) {
        problems.push(`field "${field}" must be a plain reference path (such as $.limits.concurrency)`);
      }
    }
    return problems;
  }
  const bound = options.mapConcurrency;
  const concurrency = state.MaxConcurrency;
  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > bound
  ) {
    problems.push(
      `field "MaxConcurrency" is ${JSON.stringify(concurrency ?? 'missing')}; an inline Map needs an explicit ` +
        `MaxConcurrency from 1 to ${bound} (or MaxConcurrencyPath)`,
    );
  }
  return problems;
};

const stateProblems = (visit: StateVisit, options: RuleOptions): string[] => {
  const { state } = visit;
  const problems = [...jsonataProblems(state), ...resultPathProblems(state)];
  for (const placeholder of new Set(ownStrings(state).flatMap(placeholdersIn))) {
    problems.push(`${placeholder} was not substituted (missing from the substitutions)`);
  }
  if (
    visit.enclosingMap !== undefined &&
    ownStrings(state).some((text) => text.includes('$$.Execution.Input'))
  ) {
    problems.push(
      `references $$.Execution.Input inside Map "${visit.enclosingMap}", where the engine gives the iteration ` +
        'input instead; pass the value through the ItemSelector',
    );
  }
  if (state.Type === 'Map') problems.push(...mapProblems(visit, options));
  if (state.Type === 'Pass' && 'Result' in state && !state.Result) {
    problems.push(`field "Result" is ${JSON.stringify(state.Result)}; the engine drops a falsy Pass Result`);
  }
  if (state.Type === 'Task') {
    problems.push(...unsupportedFields(state, HEARTBEAT_FIELDS, 'is ignored (no heartbeats locally)'));
    if (typeof state.Resource === 'string' && !options.isBound(state.Resource)) {
      problems.push(
        `field "Resource" ${state.Resource} has no local binding (an unbound Task is an error, not a network call)`,
      );
    }
  }
  return problems;
};

/** Every reason this definition cannot run locally as it would on AWS, each naming the state and field. */
export const definitionProblems = (definition: JsonObject, options: RuleOptions): string[] => {
  const problems: string[] = [];
  if (definition.QueryLanguage !== undefined && definition.QueryLanguage !== 'JSONPath') {
    problems.push(
      `top level: field "QueryLanguage" is ${JSON.stringify(definition.QueryLanguage)}; only JSONPath`,
    );
  }
  const seen = new Set<string>();
  const labels = new Set<string>();
  for (const visit of statesOf(definition)) {
    const label = visit.state.Type === 'Map' ? visit.state.Label : undefined;
    if (typeof label === 'string') {
      if (labels.has(label))
        problems.push(`State "${visit.name}": the Label "${label}" is used more than once`);
      labels.add(label);
    }
    if (seen.has(visit.name)) {
      problems.push(
        `State "${visit.name}": the name is used more than once; local Task bindings are keyed by state name, ` +
          'so names must be unique across Map and Parallel nesting',
      );
    }
    seen.add(visit.name);
    problems.push(...stateProblems(visit, options).map((problem) => `State "${visit.name}": ${problem}`));
  }
  // asl-validator writes default QueryLanguage fields into what it checks: give it a copy.
  const validation = aslValidator(cloneJson(definition), { checkPaths: true, checkArn: true });
  if (!validation.isValid) problems.push(...validation.errorsText('\n').split('\n'));
  return problems;
};
