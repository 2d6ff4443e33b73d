/**
 * The three hops from a state name to its code: the Task state's name, in kebab case, is the step's folder under
 * functions/; statemachines/steps.json binds the state's placeholder to that step (for serverless.yml, which
 * test/infra/stack.test.ts holds to it, and for the local stack); the folder holds the step and its handler.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('../..', import.meta.url));
const steps = Object.fromEntries(
  Object.entries(
    JSON.parse(readFileSync(join(root, 'statemachines/steps.json'), 'utf8')) as Record<string, string>,
  ).filter(([key]) => !key.startsWith('$')),
);

interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { States: Record<string, State> };
}

/** Every state of a definition, Map item processors included, by name. */
const statesOf = (states: Record<string, State>): [string, State][] =>
  Object.entries(states).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.ItemProcessor ? statesOf(state.ItemProcessor.States) : []),
  ]);

/** The `${Placeholder}` naming the function a Task runs: its Resource, or lambda:invoke's FunctionName. */
const functionPlaceholder = (state: State): string | undefined => {
  const named = JSON.stringify(
    state.Resource === 'arn:aws:states:::lambda:invoke'
      ? (state.Parameters?.['FunctionName.$'] ?? state.Parameters?.FunctionName)
      : state.Resource,
  );
  return /\$\{(\w+Function(?:Arn|Name))\}/.exec(named ?? '')?.[1];
};

const tasks = readdirSync(join(root, 'statemachines'))
  .filter((file) => file.endsWith('.asl.json'))
  .flatMap((file) =>
    statesOf(
      (
        JSON.parse(readFileSync(join(root, 'statemachines', file), 'utf8')) as {
          States: Record<string, State>;
        }
      ).States,
    )
      .map(([name, state]) => ({ file, name, placeholder: functionPlaceholder(state) }))
      .filter((task) => task.placeholder !== undefined),
  );

const kebab = (stateName: string) => stateName.toLowerCase().replace(/\s+/g, '-');

describe('statemachines/steps.json', () => {
  it('binds every function placeholder of the definitions, and nothing else', () => {
    expect(tasks.length).toBeGreaterThan(0);
    expect([...new Set(tasks.map((t) => t.placeholder))].sort()).toEqual(Object.keys(steps).sort());
  });

  it("names, for each Task, the folder that is the state's name in kebab case", () => {
    for (const task of tasks) {
      expect({ ...task, step: steps[task.placeholder as string] }).toEqual({
        ...task,
        step: kebab(task.name),
      });
    }
  });

  it('names steps whose folder holds the step and its handler', async () => {
    for (const step of Object.values(steps)) {
      expect({ step, handler: existsSync(join(root, 'functions', step, 'handler.ts')) }).toEqual({
        step,
        handler: true,
      });
      const module = (await import(`../../functions/${step}/${step}.ts`)) as { createHandler?: unknown };
      expect({ step, createHandler: typeof module.createHandler }).toEqual({
        step,
        createHandler: 'function',
      });
    }
  });
});
