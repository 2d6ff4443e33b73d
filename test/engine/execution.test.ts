import { describe, expect, it } from '@jest/globals';
import { type ExecutionRecord, type LambdaLikeContext, LocalStepFunctions } from '../../engine';
import { FN, items, mapOfTasks, OTHER_FN, oneTask } from './definitions';

class CaThrottled extends Error {
  override name = 'CaThrottled';
}
class CertificateRequestFailed extends Error {
  override name = 'CertificateRequestFailed';
}

describe('startExecution', () => {
  it('calls the bound handler with the Task input and a Lambda context, and records the result', async () => {
    const calls: { input: unknown; context: LambdaLikeContext }[] = [];
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async (input: { n: number }, context) => {
      calls.push({ input, context });
      return { doubled: input.n * 2 };
    });
    sfn.registerStateMachine('double', oneTask({ ResultPath: '$.result' }));

    const record = await sfn.startExecution('double', { n: 21 }, { name: 'run-1' });

    expect(record).toMatchObject({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:double:run-1',
      name: 'run-1',
      stateMachineName: 'double',
      status: 'SUCCEEDED',
      input: { n: 21 },
      output: { n: 21, result: { doubled: 42 } },
      historyEventCount: 7, // started, TaskStateEntered, Lambda scheduled/started/succeeded, TaskStateExited, succeeded
      stateTransitions: 1,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.input).toEqual({ n: 21 });
    expect(calls[0]?.context).toMatchObject({ functionName: 'trust-bridge-step', invokedFunctionArn: FN });
    expect(calls[0]?.context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(sfn.describeExecution(record.executionArn)).toEqual(record);
  });

  it('retries on the thrown error name, then Catch with ResultPath $.error gives Error and a Lambda-style Cause', async () => {
    const errors = [
      new CaThrottled('slow down'),
      new CaThrottled('slow down'),
      new CertificateRequestFailed('denied'),
    ];
    let calls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'never';
    });
    sfn.registerStateMachine('issue', {
      StartAt: 'Issue',
      States: {
        Issue: {
          Type: 'Task',
          Resource: FN,
          Retry: [{ ErrorEquals: ['CaThrottled'], MaxAttempts: 3, IntervalSeconds: 1 }],
          Catch: [{ ErrorEquals: ['CertificateRequestFailed'], ResultPath: '$.error', Next: 'Report' }],
          Next: 'Report',
        },
        Report: { Type: 'Pass', End: true },
      },
    });

    const record = await sfn.startExecution('issue', { account: '111122223333' });

    expect(calls).toBe(3);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toEqual({
      account: '111122223333',
      error: {
        Error: 'CertificateRequestFailed',
        Cause: JSON.stringify({ errorType: 'CertificateRequestFailed', errorMessage: 'denied' }),
      },
    });
    // 2 executions + Task entered/exited + 3 calls × 3 + Pass entered/exited
    expect(record.historyEventCount).toBe(2 + 2 + 9 + 2);
    expect(record.stateTransitions).toBe(2 + 2); // two states entered, two retries
  });

  it('fails the execution with the error name and Cause when nothing catches it', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => {
      throw new CertificateRequestFailed('denied');
    });
    sfn.registerStateMachine('issue', oneTask());

    const record = await sfn.startExecution('issue', {});

    expect(record).toMatchObject({
      status: 'FAILED',
      error: 'CertificateRequestFailed',
      cause: '{"errorType":"CertificateRequestFailed","errorMessage":"denied"}',
    });
    expect(record.output).toBeUndefined();
  });

  it('starts no Task of a failed Map once the execution has ended', async () => {
    let calls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new CertificateRequestFailed('denied');
    });
    sfn.registerStateMachine('fan-out', mapOfTasks({ MaxConcurrency: 2 }));

    const record = await sfn.startExecution('fan-out', items(20));
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(record).toMatchObject({ status: 'FAILED', error: 'CertificateRequestFailed' });
    expect(calls).toBe(2);
  });

  it('fills the context object', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true, region: 'eu-west-1', accountId: '123456789012' });
    sfn.registerStateMachine(
      'context',
      {
        StartAt: 'Read Context',
        States: {
          'Read Context': {
            Type: 'Pass',
            Parameters: {
              'id.$': '$$.Execution.Id',
              'name.$': '$$.Execution.Name',
              'startTime.$': '$$.Execution.StartTime',
              'input.$': '$$.Execution.Input',
              'roleArn.$': '$$.Execution.RoleArn',
              'machineId.$': '$$.StateMachine.Id',
              'machineName.$': '$$.StateMachine.Name',
            },
            End: true,
          },
        },
      },
      { roleArn: 'arn:aws:iam::123456789012:role/trust-bridge-sfn' },
    );

    const record = await sfn.startExecution('context', { runId: 'r1' }, { name: 'ctx' });

    expect(record.output).toEqual({
      id: 'arn:aws:states:eu-west-1:123456789012:execution:context:ctx',
      name: 'ctx',
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      input: { runId: 'r1' },
      roleArn: 'arn:aws:iam::123456789012:role/trust-bridge-sfn',
      machineId: 'arn:aws:states:eu-west-1:123456789012:stateMachine:context',
      machineName: 'context',
    });
  });

  it('rejects a duplicate execution name for the same state machine, as ExecutionAlreadyExists', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.registerStateMachine('a', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    sfn.registerStateMachine('b', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    await sfn.startExecution('a', {}, { name: 'nightly' });

    await expect(sfn.startExecution('a', {}, { name: 'nightly' })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    await expect(sfn.startExecution('b', {}, { name: 'nightly' })).resolves.toMatchObject({
      status: 'SUCCEEDED',
    });
    await expect(sfn.startExecution('a', {}, { name: 'has space' })).rejects.toMatchObject({
      name: 'InvalidName',
    });
    await expect(sfn.startExecution('missing', {})).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
  });

  it('zeroDelays makes a Retry with IntervalSeconds 30 and a Wait of an hour finish at once', async () => {
    let calls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => {
      calls += 1;
      if (calls < 3) throw new CaThrottled('again');
      return { ok: true };
    });
    sfn.registerStateMachine('slow', {
      StartAt: 'Pause',
      States: {
        Pause: { Type: 'Wait', Seconds: 3600, Next: 'Issue' },
        Issue: {
          Type: 'Task',
          Resource: FN,
          Retry: [{ ErrorEquals: ['CaThrottled'], IntervalSeconds: 30, MaxAttempts: 5, BackoffRate: 2 }],
          End: true,
        },
      },
    });

    const started = Date.now();
    const record = await sfn.startExecution('slow', {});

    expect(record.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps the real Retry interval without zeroDelays', async () => {
    let calls = 0;
    const sfn = new LocalStepFunctions();
    sfn.bindResource(FN, async () => {
      calls += 1;
      if (calls < 2) throw new CaThrottled('again');
      return {};
    });
    sfn.registerStateMachine(
      'slow',
      oneTask({ Retry: [{ ErrorEquals: ['CaThrottled'], IntervalSeconds: 1 }] }),
    );

    const started = Date.now();
    await sfn.startExecution('slow', {});

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('lists executions by state machine and status, reports totals and calls onExecutionRecorded', async () => {
    const recorded: ExecutionRecord[] = [];
    const sfn = new LocalStepFunctions({
      zeroDelays: true,
      onExecutionRecorded: (r) => void recorded.push(r),
    });
    sfn.bindResource(FN, async () => ({}));
    sfn.bindResource(OTHER_FN, async () => {
      throw new CertificateRequestFailed('no');
    });
    sfn.registerStateMachine('ok', oneTask());
    sfn.registerStateMachine('bad', oneTask({ Resource: OTHER_FN }));
    await sfn.startExecution('ok', {}, { name: 'first' });
    await sfn.startExecution('ok', {}, { name: 'second' });
    await sfn.startExecution('bad', {});

    expect(sfn.listExecutions({ stateMachineName: 'ok' }).map((r) => r.name)).toEqual(
      expect.arrayContaining(['first', 'second']),
    );
    expect(sfn.listExecutions({ status: 'FAILED' }).map((r) => r.stateMachineName)).toEqual(['bad']);
    expect(sfn.listExecutions()).toHaveLength(3);
    expect(recorded.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    // a failed Task has no TaskStateExited: started, entered, scheduled, started, failed, execution failed
    expect(sfn.totals()).toEqual({ executions: 3, stateTransitions: 3, historyEvents: 7 + 7 + 6 });
    expect(() => sfn.describeExecution('arn:aws:states:us-east-1:000000000000:execution:ok:none')).toThrow(
      expect.objectContaining({ name: 'ExecutionDoesNotExist' }),
    );
  });
});
