import { describe, expect, it } from '@jest/globals';
import { type ExecutionRecord, LocalStepFunctions } from '../../engine';
import { FN, oneTask } from './definitions';

class EnrollmentsUnavailable extends Error {
  override name = 'EnrollmentsUnavailable';
}

/** An engine whose one Task fails while `down` is true, and records what it saw. */
const engineWithStep = (records: ExecutionRecord[] = []) => {
  const state = { down: true, seen: [] as unknown[] };
  const sfn = new LocalStepFunctions({ zeroDelays: true, onExecutionRecorded: (r) => void records.push(r) });
  sfn.bindResource(FN, async (input: unknown) => {
    state.seen.push(input);
    if (state.down) throw new EnrollmentsUnavailable('registry down');
    return { ok: true };
  });
  sfn.registerStateMachine('plan', oneTask());
  return { sfn, state };
};

describe('restored executions', () => {
  it('keep their names taken and are described and listed like the engine’s own', async () => {
    const first = engineWithStep();
    first.state.down = false;
    const old = await first.sfn.startExecution('plan', { n: 1 }, { name: 'run-1' });

    const { sfn } = engineWithStep();
    sfn.restoreExecutions([old]);

    expect(sfn.describeExecution(old.executionArn)).toEqual(old);
    expect(sfn.listExecutions({ stateMachineName: 'plan' })).toEqual([old]);
    await expect(sfn.startExecution('plan', {}, { name: 'run-1' })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    // Restored records are history, not work this engine did.
    expect(sfn.totals().executions).toBe(0);
  });
});

describe('redriveExecution', () => {
  it('runs a failed execution again under its ARN with its input, and counts the redrive', async () => {
    const records: ExecutionRecord[] = [];
    const { sfn, state } = engineWithStep(records);
    const failed = await sfn.startExecution('plan', { accounts: ['111122223333'] }, { name: 'run-2' });
    expect(failed).toMatchObject({ status: 'FAILED', error: 'EnrollmentsUnavailable' });
    expect(failed.redriveCount).toBeUndefined();

    state.down = false;
    const redriven = await sfn.redriveExecution(failed.executionArn);

    expect(redriven).toMatchObject({
      executionArn: failed.executionArn,
      name: 'run-2',
      status: 'SUCCEEDED',
      input: { accounts: ['111122223333'] },
      output: { ok: true },
      startDate: failed.startDate,
      redriveCount: 1,
    });
    expect(Date.parse(redriven.redriveDate ?? '')).toBeGreaterThanOrEqual(Date.parse(failed.stopDate));
    expect(state.seen).toEqual([{ accounts: ['111122223333'] }, { accounts: ['111122223333'] }]);
    expect(sfn.describeExecution(failed.executionArn)).toEqual(redriven);
    expect(sfn.listExecutions()).toHaveLength(1);
    expect(records.map((r) => r.status)).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('refuses a succeeded execution, an unknown one, and a restored one older than 14 days', async () => {
    const { sfn, state } = engineWithStep();
    state.down = false;
    const ok = await sfn.startExecution('plan', {});
    await expect(sfn.redriveExecution(ok.executionArn)).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: expect.stringContaining('it is SUCCEEDED, not FAILED'),
    });
    await expect(sfn.redriveExecution(`${ok.executionArn}-nope`)).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    });
    const longAgo = new Date(Date.now() - 15 * 24 * 3_600_000).toISOString();
    const old: ExecutionRecord = {
      ...ok,
      name: 'old',
      executionArn: `${sfn.stateMachineArn('plan').replace(':stateMachine:', ':execution:')}:old`,
      status: 'FAILED',
      startDate: longAgo,
      stopDate: longAgo,
    };
    sfn.restoreExecutions([old]);
    await expect(sfn.redriveExecution(old.executionArn)).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: expect.stringContaining('more than 14 days ago'),
    });
  });

  it('refuses a child execution: its parent is what gets redriven', async () => {
    const { sfn } = engineWithStep();
    const child = await sfn.startExecution('plan', {
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID:
        'arn:aws:states:us-east-1:000000000000:execution:p:parent-1',
    });
    expect(child.status).toBe('FAILED');
    await expect(sfn.redriveExecution(child.executionArn)).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: expect.stringContaining(
        'started by arn:aws:states:us-east-1:000000000000:execution:p:parent-1',
      ),
    });
  });
});

describe('an execution that was aborted (locally: its process died)', () => {
  it('is told as RUNNING before its first state, and is redriven as AWS redrives an ABORTED one', async () => {
    const started: unknown[] = [];
    const sfn = new LocalStepFunctions({
      zeroDelays: true,
      onExecutionStarted: (execution) => void started.push(execution),
    });
    const seen: unknown[] = [];
    sfn.bindResource(FN, async (input: unknown) => {
      seen.push(input);
      // The start was told before this state ran.
      expect(started).toHaveLength(seen.length);
      return { ok: true };
    });
    sfn.registerStateMachine('plan', oneTask());
    const arn = 'arn:aws:states:us-east-1:000000000000:execution:plan:run-9';
    const aborted: ExecutionRecord = {
      executionArn: arn,
      name: 'run-9',
      stateMachineName: 'plan',
      stateMachineArn: sfn.stateMachineArn('plan'),
      status: 'ABORTED',
      input: { n: 9 },
      error: 'ProcessDied',
      startDate: new Date().toISOString(),
      stopDate: new Date().toISOString(),
      historyEventCount: 0,
      stateTransitions: 0,
    };
    sfn.restoreExecutions([aborted]);

    const redriven = await sfn.redriveExecution(arn);

    expect(started).toEqual([
      expect.objectContaining({ executionArn: arn, status: 'RUNNING', input: { n: 9 }, redriveCount: 1 }),
    ]);
    expect(redriven).toMatchObject({ executionArn: arn, status: 'SUCCEEDED', redriveCount: 1 });
    expect(seen).toEqual([{ n: 9 }]);
  });
});
