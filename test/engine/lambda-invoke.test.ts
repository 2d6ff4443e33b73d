import { describe, expect, it } from '@jest/globals';
import { type LambdaLikeContext, LocalStepFunctions } from '../../engine';

class KeywhizUnavailable extends Error {
  override name = 'KeywhizUnavailable';
}

const AGENT_IN_EVERY_ACCOUNT = 'arn:aws:lambda:us-east-1:*:function:agent';

/** A Task that invokes the agent of the account named in its input, as the sync chunk machine does. */
const invokeAgent = (extra: object = {}) => ({
  StartAt: 'Sync Account',
  States: {
    'Sync Account': {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Credentials: { 'RoleArn.$': "States.Format('arn:aws:iam::{}:role/invoker', $.accountId)" },
      Parameters: {
        'FunctionName.$': "States.Format('arn:aws:lambda:us-east-1:{}:function:agent', $.accountId)",
        Payload: { 'accountId.$': '$.accountId' },
      },
      ...extra,
      End: true,
    },
  },
});

describe('lambda:invoke', () => {
  it('calls the function bound for any account with the Payload and answers as the AWS integration does', async () => {
    const calls: { input: unknown; context: LambdaLikeContext }[] = [];
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(AGENT_IN_EVERY_ACCOUNT, async (input: { accountId: string }, context) => {
      calls.push({ input, context });
      return { synced: input.accountId.length };
    });
    sfn.registerStateMachine('sync', invokeAgent());

    const record = await sfn.startExecution('sync', { accountId: '111122223333' });

    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toEqual({ ExecutedVersion: '$LATEST', Payload: { synced: 12 }, StatusCode: 200 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.input).toEqual({ accountId: '111122223333' });
    // The agent sees the ARN it was invoked by, so it can tell which account it runs in.
    expect(calls[0]?.context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:111122223333:function:agent');
    expect(record.historyEventCount).toBe(7);
  });

  it("retries on the function's error name and fails with it, as a Lambda Task does", async () => {
    let calls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(AGENT_IN_EVERY_ACCOUNT, async () => {
      calls += 1;
      throw new KeywhizUnavailable('down');
    });
    sfn.registerStateMachine(
      'sync',
      invokeAgent({ Retry: [{ ErrorEquals: ['KeywhizUnavailable'], MaxAttempts: 2 }] }),
    );
    const record = await sfn.startExecution('sync', { accountId: '111122223333' });
    expect(calls).toBe(3);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('KeywhizUnavailable');
  });

  it('fails when no function is bound under the name, and refuses to rebind the integration itself', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource('arn:aws:lambda:us-east-1:999999999999:function:agent', async () => 'only there');
    sfn.registerStateMachine('sync', invokeAgent());
    const record = await sfn.startExecution('sync', { accountId: '111122223333' });
    expect(record.status).toBe('FAILED');
    expect(record.cause).toMatch(/No local binding for arn:aws:lambda:us-east-1:111122223333:function:agent/);
    expect(() => sfn.bindResource('arn:aws:states:::lambda:invoke', async () => 'x')).toThrow(
      /provided by the engine/,
    );
  });
});
