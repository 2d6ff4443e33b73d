import { describe, expect, it } from '@jest/globals';
import { LocalStepFunctions } from '../../engine';
import { FN, mapOfTasks } from './definitions';

class CertificateRequestFailed extends Error {
  override name = 'CertificateRequestFailed';
}

const parentOf = (childArn: string, sync = 'sync:2') => ({
  StartAt: 'Run Child',
  States: {
    'Run Child': {
      Type: 'Task',
      Resource: `arn:aws:states:::states:startExecution.${sync}`,
      Parameters: {
        StateMachineArn: childArn,
        'Input.$': '$',
      },
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Child Failed' }],
      End: true,
    },
    'Child Failed': { Type: 'Pass', End: true },
  },
});

const childPassingInput = {
  StartAt: 'Echo',
  States: { Echo: { Type: 'Task', Resource: FN, End: true } },
};

const engine = (handler: (input: { n?: number }) => Promise<unknown>) => {
  const sfn = new LocalStepFunctions({ zeroDelays: true });
  sfn.bindResource(FN, handler);
  const childArn = sfn.registerStateMachine('child', childPassingInput);
  return { sfn, childArn };
};

describe('child executions (states:startExecution.sync)', () => {
  it('.sync:2 runs the registered child and returns its description with JSON Input and Output', async () => {
    const { sfn, childArn } = engine(async (input) => ({ seen: input.n }));
    sfn.registerStateMachine('parent', parentOf(childArn));

    const parent = await sfn.startExecution('parent', { n: 7 });

    expect(parent.status).toBe('SUCCEEDED');
    const children = sfn.listExecutions({ stateMachineName: 'child' });
    expect(children).toHaveLength(1);
    expect(parent.output).toEqual({
      ExecutionArn: children[0]?.executionArn,
      Input: { n: 7 },
      InputDetails: { Included: true },
      Name: children[0]?.name,
      Output: { seen: 7 },
      OutputDetails: { Included: true },
      StartDate: expect.any(Number),
      StateMachineArn: childArn,
      Status: 'SUCCEEDED',
      StopDate: expect.any(Number),
    });
    // 2 execution events + Task entered, scheduled, started, submitted, succeeded, exited
    expect(parent.historyEventCount).toBe(8);
  });

  it('.sync returns Input and Output as JSON strings', async () => {
    const { sfn, childArn } = engine(async () => ({ ok: true }));
    sfn.registerStateMachine('parent', parentOf(childArn, 'sync'));

    const parent = await sfn.startExecution('parent', { n: 1 });

    expect(parent.output).toMatchObject({ Input: '{"n":1}', Output: '{"ok":true}', Status: 'SUCCEEDED' });
  });

  it('a failed child fails the Task with States.TaskFailed and the child description as Cause', async () => {
    const { sfn, childArn } = engine(async () => {
      throw new CertificateRequestFailed('denied');
    });
    sfn.registerStateMachine('parent', parentOf(childArn));

    const parent = await sfn.startExecution('parent', { n: 3 });

    expect(parent.status).toBe('SUCCEEDED');
    const caught = (parent.output as { error: { Error: string; Cause: string } }).error;
    expect(caught.Error).toBe('States.TaskFailed');
    expect(JSON.parse(caught.Cause)).toMatchObject({
      Status: 'FAILED',
      StateMachineArn: childArn,
      Input: { n: 3 },
      Error: 'CertificateRequestFailed',
      Cause: '{"errorType":"CertificateRequestFailed","errorMessage":"denied"}',
    });
    expect(sfn.listExecutions({ stateMachineName: 'child', status: 'FAILED' })).toHaveLength(1);
  });

  it('links the child to its parent through AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID and honours Name', async () => {
    const { sfn, childArn } = engine(async () => ({}));
    const definition = parentOf(childArn);
    definition.States['Run Child'].Parameters = {
      StateMachineArn: childArn,
      'Name.$': "States.Format('{}-child', $$.Execution.Name)",
      Input: { 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id', 'n.$': '$.n' },
    } as never;
    sfn.registerStateMachine('parent', definition);

    const parent = await sfn.startExecution('parent', { n: 1 }, { name: 'nightly' });
    const child = sfn.describeExecution(
      'arn:aws:states:us-east-1:000000000000:execution:child:nightly-child',
    );

    expect(child.parentExecutionArn).toBe(parent.executionArn);
    expect(child.input).toEqual({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parent.executionArn, n: 1 });
  });

  it('an unknown child state machine fails the Task with StepFunctions.StateMachineDoesNotExistException', async () => {
    const { sfn } = engine(async () => ({}));
    sfn.registerStateMachine('parent', parentOf('arn:aws:states:us-east-1:000000000000:stateMachine:nobody'));

    const parent = await sfn.startExecution('parent', {});

    // States.TaskFailed in a Catch matches any Task error (but States.Timeout), as on AWS.
    expect(parent.output).toMatchObject({
      error: { Error: 'StepFunctions.StateMachineDoesNotExistException' },
    });
  });

  it('runs 10,000 no-op Tasks in 20 child executions of 500 in seconds', async () => {
    let calls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => {
      calls += 1;
      return {};
    });
    const childArn = sfn.registerStateMachine('chunk', mapOfTasks({ MaxConcurrency: 40, ResultPath: null }));
    sfn.registerStateMachine('rotation', {
      StartAt: 'For Each Chunk',
      States: {
        'For Each Chunk': {
          Type: 'Map',
          ItemsPath: '$.chunks',
          MaxConcurrency: 20,
          ItemProcessor: {
            StartAt: 'Run Chunk',
            States: {
              'Run Chunk': {
                Type: 'Task',
                Resource: 'arn:aws:states:::states:startExecution.sync:2',
                Parameters: { StateMachineArn: childArn, 'Input.$': '$' },
                ResultSelector: { 'status.$': '$.Status' },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    const chunk = { items: Array.from({ length: 500 }, (_, i) => ({ i })) };

    const started = performance.now();
    const record = await sfn.startExecution('rotation', { chunks: Array.from({ length: 20 }, () => chunk) });
    const elapsedMs = performance.now() - started;

    expect(record.status).toBe('SUCCEEDED');
    expect(calls).toBe(10_000);
    expect(sfn.listExecutions({ stateMachineName: 'chunk', status: 'SUCCEEDED' })).toHaveLength(20);
    expect(elapsedMs).toBeLessThan(20_000);
    console.info(
      `10,000 Tasks in 20 child executions: ${Math.round(elapsedMs)} ms, ${(elapsedMs / 10_000).toFixed(3)} ms per Task`,
    );
  });
});
