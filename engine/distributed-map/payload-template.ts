import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { isJsonObject, type Json, type JsonObject } from '../asl';
import { parseReferencePath, resolveReferencePath } from '../reference-path';

/** Where the Pass machine finds the state's effective input: the engine lets InputPath select from `$$`. */
const EFFECTIVE_INPUT = '__distributedMapInput';

/** A template filled directly, or undefined when only the engine can (intrinsic functions, a path to nothing). */
const fillDirectly = (template: Json, input: Json, context: JsonObject): { value: Json } | undefined => {
  if (Array.isArray(template)) {
    const values: Json[] = [];
    for (const inner of template) {
      const filled = fillDirectly(inner, input, context);
      if (!filled) return undefined;
      values.push(filled.value);
    }
    return { value: values };
  }
  if (!isJsonObject(template)) return { value: template };
  const result: JsonObject = {};
  for (const [key, inner] of Object.entries(template)) {
    if (!key.endsWith('.$')) {
      const filled = fillDirectly(inner, input, context);
      if (!filled) return undefined;
      result[key] = filled.value;
      continue;
    }
    const path = typeof inner === 'string' ? parseReferencePath(inner) : undefined;
    if (!path) return undefined;
    const value = resolveReferencePath(path, input, context);
    if (value === undefined) return undefined;
    result[key.slice(0, -2)] = value as Json;
  }
  return { value: result };
};

/**
 * Evaluates the JSONPath payload templates a Distributed Map holds (ItemSelector, BatchInput, the ItemReader and
 * ResultWriter Parameters) as aws-local-stepfunctions does for any state: a template whose `.$` fields are all
 * reference paths that select something is filled directly (the common case, once per item), and any other
 * runs as the Parameters of a one-state Pass machine on the engine, which brings intrinsic functions and the
 * engine's own errors (States.Runtime for a path that selects nothing). The Pass machine runs with the
 * execution's input, so $$.Execution.Input is the execution's, as on AWS.
 */
export class PayloadTemplates {
  readonly #machines = new WeakMap<object, StateMachine>();

  async fill(template: Json, input: Json, context: JsonObject): Promise<Json> {
    const filled = fillDirectly(template, input, context);
    if (filled) return filled.value;
    const execution = isJsonObject(context.Execution) ? context.Execution : {};
    const run = this.#machineFor(template).run(execution.Input ?? {}, {
      context: { ...context, [EFFECTIVE_INPUT]: input },
    });
    try {
      return (await run.result) as Json;
    } catch (thrown) {
      throw thrown instanceof ExecutionError ? thrown.cause : thrown;
    }
  }

  #machineFor(template: Json): StateMachine {
    const key = typeof template === 'object' && template !== null ? template : { template };
    let machine = this.#machines.get(key);
    if (!machine) {
      const definition = {
        StartAt: 'Fill',
        States: {
          Fill: { Type: 'Pass', InputPath: `$$.${EFFECTIVE_INPUT}`, Parameters: template, End: true },
        },
      };
      machine = new StateMachine(definition as unknown as StateMachineDefinition, {
        validationOptions: { noValidate: true },
      });
      this.#machines.set(key, machine);
    }
    return machine;
  }
}
