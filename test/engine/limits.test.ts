import { describe, expect, it } from '@jest/globals';
import { LocalStepFunctions } from '../../engine';
import { FN, items, mapOfTasks, OTHER_FN } from './definitions';

const KB = 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A handler that records how many of its calls run at the same time. */
const concurrencyProbe = () => {
  const probe = { running: 0, highest: 0, calls: 0 };
  const handler = async () => {
    probe.calls += 1;
    probe.running += 1;
    probe.highest = Math.max(probe.highest, probe.running);
    await sleep(5);
    probe.running -= 1;
    return {};
  };
  return { probe, handler };
};

describe('payload limit (256 KB)', () => {
  it('fails the execution with States.DataLimitExceeded when a task returns more than 256 KB, even under Catch', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => ({ blob: 'x'.repeat(256 * KB) }));
    sfn.registerStateMachine('big', {
      StartAt: 'Do The Step',
      States: {
        'Do The Step': {
          Type: 'Task',
          Resource: FN,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Done' }],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    });

    const record = await sfn.startExecution('big', {});

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toMatch(
      /The result of Task "Do The Step" is 262\d{3} bytes, over the payload limit of 262144/,
    );
  });

  it('fails when a state output grows past the limit, and no Task runs after that', async () => {
    let laterCalls = 0;
    const sfn = new LocalStepFunctions({ zeroDelays: true, limits: { payloadBytes: 100 } });
    sfn.bindResource(FN, async () => 'y'.repeat(80));
    sfn.bindResource(OTHER_FN, async () => {
      laterCalls += 1;
      return {};
    });
    sfn.registerStateMachine('grow', {
      StartAt: 'Fetch',
      States: {
        // Each result fits on its own; merged into the input it does not.
        Fetch: { Type: 'Task', Resource: FN, ResultPath: '$.a', Next: 'Fetch More' },
        'Fetch More': { Type: 'Task', Resource: FN, ResultPath: '$.b', Next: 'Later' },
        Later: { Type: 'Task', Resource: OTHER_FN, End: true },
      },
    });

    const record = await sfn.startExecution('grow', {});

    expect(record).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(record.cause).toMatch(/state "Fetch More" is \d+ bytes/);
    expect(laterCalls).toBe(0);
  });

  it('rejects an execution input over the limit', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true, limits: { payloadBytes: 50 } });
    sfn.registerStateMachine('p', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

    const record = await sfn.startExecution('p', { text: 'z'.repeat(60) });

    expect(record).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });
});

describe('history limit (25,000 events)', () => {
  it('counts AWS history events for a Map and fails the execution once the lowered limit is passed', async () => {
    const { probe, handler } = concurrencyProbe();
    const sfn = new LocalStepFunctions({ zeroDelays: true, limits: { historyEvents: 200 } });
    sfn.bindResource(FN, handler);
    sfn.registerStateMachine('fan-out', mapOfTasks());

    // 2 execution + 4 Map + per iteration (2 iteration + 5 task) = 6 + 7n
    const small = await sfn.startExecution('fan-out', items(10));
    expect(small).toMatchObject({ status: 'SUCCEEDED', historyEventCount: 6 + 7 * 10 });

    const large = await sfn.startExecution('fan-out', items(100));
    expect(large).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'The execution history limit of 200 events exceeded',
    });
    expect(probe.calls).toBeLessThan(10 + 100);
  });

  it('defaults to AWS limit of 25,000 events', async () => {
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, async () => ({}));
    sfn.registerStateMachine('fan-out', mapOfTasks({ MaxConcurrency: 40 }));

    const fits = await sfn.startExecution('fan-out', items(3_500)); // 6 + 7 × 3,500 = 24,506
    const breaks = await sfn.startExecution('fan-out', items(3_600)); // 25,206

    expect(fits).toMatchObject({ status: 'SUCCEEDED', historyEventCount: 24_506 });
    expect(breaks).toMatchObject({
      status: 'FAILED',
      cause: 'The execution history limit of 25,000 events exceeded',
    });
  });
});

describe('inline Map concurrency', () => {
  it('never runs more iterations at once than MaxConcurrency', async () => {
    const { probe, handler } = concurrencyProbe();
    const sfn = new LocalStepFunctions({ zeroDelays: true });
    sfn.bindResource(FN, handler);
    sfn.registerStateMachine('fan-out', mapOfTasks({ MaxConcurrency: 7 }));

    const record = await sfn.startExecution('fan-out', items(60));

    expect(record.status).toBe('SUCCEEDED');
    expect(probe.calls).toBe(60);
    expect(probe.highest).toBe(7);
  });

  it('checks a MaxConcurrencyPath value against the bound when the Map starts', async () => {
    const { probe, handler } = concurrencyProbe();
    const sfn = new LocalStepFunctions({ zeroDelays: true, limits: { mapConcurrency: 10 } });
    sfn.bindResource(FN, handler);
    sfn.registerStateMachine(
      'fan-out',
      mapOfTasks({ MaxConcurrency: undefined, MaxConcurrencyPath: '$.limits.concurrency' }),
    );

    const within = await sfn.startExecution('fan-out', { ...items(30), limits: { concurrency: 10 } });
    expect(within.status).toBe('SUCCEEDED');
    expect(probe.highest).toBe(10);

    const before = probe.calls;
    const beyond = await sfn.startExecution('fan-out', { ...items(30), limits: { concurrency: 11 } });
    expect(beyond).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(beyond.cause).toMatch(/Map "For Each Item": MaxConcurrencyPath gave 11/);
    expect(probe.calls).toBe(before);
  });
});
