import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type LocalStepFunctionsOptions, LocalStepFunctions } from '../../engine';
import { LocalS3 } from '../../local-stack/stand-ins/s3/local-s3';
import { FN } from './definitions';
import { accounts, BUCKET, fanOut } from './distributed-map.definitions';

type Account = { accountId: string };

class AccountUnreachable extends Error {
  override name = 'AccountUnreachable';
}

let dataDir: string;
let s3: LocalS3;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'distributed-map-'));
  s3 = new LocalS3({ dataDir, buckets: [BUCKET, 'results'] });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const putPlan = (key: string, body: unknown) =>
  s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

const readJson = async (bucket: string, key: string) => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await object.Body!.transformToString()) as string);
};

const engine = (handler: (input: never) => Promise<unknown>, options: LocalStepFunctionsOptions = {}) => {
  const sfn = new LocalStepFunctions({ zeroDelays: true, s3, ...options });
  sfn.bindResource(FN, handler);
  return sfn;
};

const echo = async (input: Account) => ({ done: input.accountId });

describe('Distributed Map: items, child executions and history', () => {
  it('reads the items from an S3 JSON array and runs each as a child execution with its own record', async () => {
    await putPlan('plan.json', accounts(5));
    const sfn = engine(echo);
    sfn.registerStateMachine('rotation', fanOut());

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent.status).toBe('SUCCEEDED');
    expect(parent.output).toEqual(accounts(5).map((a) => ({ done: a.accountId })));
    // Execution started/succeeded, MapStateEntered/Started, MapRunStarted/Succeeded, MapStateSucceeded/Exited.
    expect(parent.historyEventCount).toBe(8);
    const children = sfn.listExecutions({ stateMachineName: 'rotation/Accounts' });
    expect(children).toHaveLength(5);
    const mapRunArn = children[0]!.mapRunArn!;
    expect(mapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:rotation\/Accounts:[0-9a-f-]{36}$/,
    );
    expect(sfn.listExecutions({ mapRunArn })).toHaveLength(5);
    for (const child of children) {
      expect(child).toMatchObject({
        status: 'SUCCEEDED',
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:rotation/Accounts',
        historyEventCount: 7,
      });
      expect(child.executionArn).toBe(
        `arn:aws:states:us-east-1:000000000000:execution:rotation/Accounts:${child.name}`,
      );
    }
    expect(sfn.listExecutions({ stateMachineName: 'rotation' })).toEqual([parent]);
  });

  it('gives each child its own context object, as AWS gives a Map Run child execution', async () => {
    await putPlan('plan.json', accounts(1));
    const sfn = engine(echo);
    sfn.registerStateMachine(
      'rotation',
      fanOut(
        {},
        {
          Context: {
            Type: 'Pass',
            Parameters: {
              'id.$': '$$.Execution.Id',
              'input.$': '$$.Execution.Input',
              'machine.$': '$$.StateMachine.Name',
            },
            End: true,
          },
        },
      ),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    const [child] = sfn.listExecutions({ stateMachineName: 'rotation/Accounts' });
    expect(parent.output).toEqual([
      { id: child!.executionArn, input: accounts(1)[0], machine: 'rotation/Accounts' },
    ]);
  });

  it('reads JSON Lines and stops at ReaderConfig MaxItems', async () => {
    await putPlan(
      'plan.jsonl',
      accounts(7)
        .map((a) => JSON.stringify(a))
        .join('\n'),
    );
    const seen: string[] = [];
    const sfn = engine(async (input: Account) => seen.push(input.accountId));
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL', MaxItemsPath: '$.limit' },
          Parameters: { Bucket: BUCKET, Key: 'plan.jsonl' },
        },
      }),
    );

    const parent = await sfn.startExecution('rotation', { limit: 4 });

    expect(parent.status).toBe('SUCCEEDED');
    expect(seen.sort()).toEqual(accounts(4).map((a) => a.accountId));
  });

  it('takes the items from ItemsPath when there is no ItemReader', async () => {
    const sfn = engine(echo);
    const definition = fanOut({ ItemsPath: '$.plan' }) as { States: Record<string, Record<string, unknown>> };
    delete definition.States['For Each Account']!.ItemReader;
    sfn.registerStateMachine('rotation', definition);

    const parent = await sfn.startExecution('rotation', { plan: accounts(3) });

    expect(parent.output).toEqual(accounts(3).map((a) => ({ done: a.accountId })));
  });

  it('applies ItemSelector to each item with $$.Map.Item.Value and Index, intrinsic functions included', async () => {
    await putPlan('plan.json', accounts(3));
    const inputs: unknown[] = [];
    const sfn = engine(async (input: never) => inputs.push(input));
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ItemSelector: {
          'account.$': '$$.Map.Item.Value.accountId',
          'position.$': '$$.Map.Item.Index',
          'runId.$': '$.runId',
          'label.$': "States.Format('{}-{}', $.runId, $$.Map.Item.Index)",
          fixed: true,
        },
      }),
    );

    await sfn.startExecution('rotation', { planKey: 'plan.json', runId: 'r1' });

    expect(inputs).toEqual(
      accounts(3).map((a, i) => ({
        account: a.accountId,
        position: i,
        runId: 'r1',
        label: `r1-${i}`,
        fixed: true,
      })),
    );
  });

  it('batches items with BatchInput into { BatchInput, Items } child inputs', async () => {
    await putPlan('plan.json', accounts(250));
    const batches: { BatchInput: unknown; Items: Account[] }[] = [];
    const sfn = engine(async (input: never) => {
      batches.push(input);
      return { count: (input as { Items: unknown[] }).Items.length };
    });
    sfn.registerStateMachine(
      'rotation',
      fanOut({ ItemBatcher: { MaxItemsPerBatch: 100, BatchInput: { 'runId.$': '$.runId' } } }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json', runId: 'r7' });

    expect(parent.output).toEqual([{ count: 100 }, { count: 100 }, { count: 50 }]);
    expect(batches.map((b) => b.BatchInput)).toEqual([{ runId: 'r7' }, { runId: 'r7' }, { runId: 'r7' }]);
    expect(batches.flatMap((b) => b.Items)).toEqual(expect.arrayContaining(accounts(250)));
  });

  it('keeps each batch within MaxInputBytesPerBatch, counting the whole child input', async () => {
    await putPlan('plan.json', accounts(40));
    const sizes: number[] = [];
    const sfn = engine(async (input: never) => sizes.push(Buffer.byteLength(JSON.stringify(input))));
    sfn.registerStateMachine('rotation', fanOut({ ItemBatcher: { MaxInputBytesPerBatchPath: '$.bytes' } }));

    await sfn.startExecution('rotation', { planKey: 'plan.json', bytes: 301 });

    // {"Items":[]} is 12 bytes, each item 28 and a comma between two: 10 items make 301 bytes.
    expect(sizes).toEqual([301, 301, 301, 301]);
  });
});

describe('Distributed Map: failures', () => {
  const failingEvery = (n: number) => async (input: Account) => {
    if (Number(input.accountId.slice(-2)) % n === 0) throw new AccountUnreachable(input.accountId);
    return { done: input.accountId };
  };

  it('succeeds with failed children under the tolerated count, describing each failed child in the output', async () => {
    await putPlan('plan.json', accounts(10));
    const sfn = engine(failingEvery(5));
    sfn.registerStateMachine('rotation', fanOut({ ToleratedFailureCount: 2 }));

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent.status).toBe('SUCCEEDED');
    const output = parent.output as Record<string, unknown>[];
    expect(output[1]).toEqual({ done: '100000000001' });
    expect(output[0]).toMatchObject({
      Status: 'FAILED',
      Error: 'AccountUnreachable',
      Input: JSON.stringify(accounts(1)[0]),
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:rotation/Accounts',
    });
    expect(sfn.listExecutions({ stateMachineName: 'rotation/Accounts', status: 'FAILED' })).toHaveLength(2);
  });

  it('fails with States.ExceedToleratedFailureThreshold over the tolerated percentage, which a Catch can take', async () => {
    await putPlan('plan.json', accounts(10));
    const sfn = engine(failingEvery(5));
    const definition = fanOut({
      ToleratedFailurePercentagePath: '$.tolerated',
      Catch: [
        { ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.error', Next: 'Report' },
      ],
      End: undefined,
      Next: 'Report',
    }) as { States: Record<string, unknown> };
    definition.States.Report = { Type: 'Pass', End: true };
    sfn.registerStateMachine('rotation', definition);

    const within = await sfn.startExecution('rotation', { planKey: 'plan.json', tolerated: 20 });
    const over = await sfn.startExecution('rotation', { planKey: 'plan.json', tolerated: 10 });

    expect(within.output).toHaveLength(10);
    expect(over.status).toBe('SUCCEEDED');
    expect(over.output).toMatchObject({
      error: {
        Error: 'States.ExceedToleratedFailureThreshold',
        Cause: expect.stringContaining('2 of 10 items'),
      },
    });
  });

  it('with no threshold, one failed child fails the Map, and no child starts after the failure is known', async () => {
    await putPlan('plan.json', accounts(30));
    let calls = 0;
    const sfn = engine(async (input: Account) => {
      calls += 1;
      if (input.accountId.endsWith('00')) throw new AccountUnreachable('first');
      return {};
    });
    sfn.registerStateMachine('rotation', fanOut({ MaxConcurrency: 1 }));

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect(calls).toBe(1);
  });

  it('fails a child that breaks its own 25,000-event history limit, not the parent', async () => {
    await putPlan('plan.json', accounts(2));
    // 12 Pass states: 2 + 24 history events per child; the parent has 8.
    const passes = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `Step ${i}`,
        { Type: 'Pass', ...(i < 11 ? { Next: `Step ${i + 1}` } : { End: true }) },
      ]),
    );
    const sfn = engine(echo, { limits: { historyEvents: 20 } });
    sfn.registerStateMachine('rotation', fanOut({ ToleratedFailurePercentage: 100 }, passes));

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent).toMatchObject({ status: 'SUCCEEDED', historyEventCount: 8 });
    expect(sfn.listExecutions({ stateMachineName: 'rotation/Accounts' })).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: 'States.Runtime',
        cause: expect.stringMatching(/history limit of 20/),
      }),
      expect.objectContaining({ status: 'FAILED', error: 'States.Runtime' }),
    ]);
  });

  it('fails a child whose input is over 256 KB (an item read from S3 may be up to 8 MB)', async () => {
    await putPlan('plan.json', [{ accountId: '1', blob: 'x'.repeat(300 * 1024) }, { accountId: '2' }]);
    const sfn = engine(echo);
    // The failed child's description holds its input: the results go to S3, not into the state output.
    const ResultWriter = { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'results' } };
    sfn.registerStateMachine('rotation', fanOut({ ToleratedFailureCount: 1, ResultWriter }));

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent.status).toBe('SUCCEEDED');
    expect(sfn.listExecutions({ stateMachineName: 'rotation/Accounts', status: 'FAILED' })).toEqual([
      expect.objectContaining({ error: 'States.DataLimitExceeded' }),
    ]);
  });

  it('fails the Map with States.DataLimitExceeded when the children outputs exceed 256 KB without a ResultWriter', async () => {
    await putPlan('plan.json', accounts(3));
    const sfn = engine(async () => ({ blob: 'y'.repeat(100 * 1024) }));
    sfn.registerStateMachine('rotation', fanOut());

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(parent.cause).toMatch(/^The result of Map "For Each Account" is \d+ bytes/);
  });

  it('fails with a catchable States.ItemReaderFailed when the S3 object is missing', async () => {
    const sfn = engine(echo);
    const definition = fanOut({
      Catch: [{ ErrorEquals: ['States.ItemReaderFailed'], ResultPath: '$.error', Next: 'Report' }],
      End: undefined,
      Next: 'Report',
    }) as { States: Record<string, unknown> };
    definition.States.Report = { Type: 'Pass', End: true };
    sfn.registerStateMachine('rotation', definition);

    const parent = await sfn.startExecution('rotation', { planKey: 'missing.json' });

    expect(parent.status).toBe('SUCCEEDED');
    expect(parent.output).toMatchObject({
      error: { Error: 'States.ItemReaderFailed', Cause: expect.stringContaining('NoSuchKey') },
    });
    expect(sfn.listExecutions({ stateMachineName: 'rotation/Accounts' })).toHaveLength(0);
  });

  it('retries a failed Map Run as a new Map Run; States.TaskFailed does not match a Map state', async () => {
    await putPlan('plan.json', accounts(2));
    let calls = 0;
    const sfn = engine(async () => {
      calls += 1;
      if (calls === 1) throw new AccountUnreachable('once');
      return {};
    });
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        MaxConcurrency: 1,
        Retry: [
          { ErrorEquals: ['States.TaskFailed'], MaxAttempts: 5 },
          { ErrorEquals: ['States.ExceedToleratedFailureThreshold'], MaxAttempts: 1 },
        ],
      }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent.status).toBe('SUCCEEDED');
    const runs = new Set(
      sfn.listExecutions({ stateMachineName: 'rotation/Accounts' }).map((c) => c.mapRunArn),
    );
    expect(runs.size).toBe(2);
    expect(calls).toBe(3);
  });
});

describe('Distributed Map: ResultWriter', () => {
  it("writes AWS's manifest and result files under <Prefix>/<map run id>/ and returns where they are", async () => {
    await putPlan('plan.json', accounts(4));
    const sfn = engine(async (input: Account) => {
      if (input.accountId.endsWith('3')) throw new AccountUnreachable(input.accountId);
      return { done: input.accountId };
    });
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ToleratedFailureCount: 1,
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'results', 'Prefix.$': "States.Format('runs/{}', $.runId)" },
        },
        ResultSelector: { 'manifest.$': '$.ResultWriterDetails.Key', 'run.$': '$.MapRunArn' },
        ResultPath: '$.results',
      }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json', runId: 'r1' });

    const [child] = sfn.listExecutions({ stateMachineName: 'rotation/Accounts' });
    const mapRunArn = child!.mapRunArn!;
    const id = mapRunArn.split(':').at(-1);
    expect(parent.output).toEqual({
      planKey: 'plan.json',
      runId: 'r1',
      results: { manifest: `runs/r1/${id}/manifest.json`, run: mapRunArn },
    });
    const manifest = await readJson('results', `runs/r1/${id}/manifest.json`);
    expect(manifest).toEqual({
      DestinationBucket: 'results',
      MapRunArn: mapRunArn,
      ResultFiles: {
        FAILED: [{ Key: `runs/r1/${id}/FAILED_0.json`, Size: expect.any(Number) }],
        PENDING: [],
        SUCCEEDED: [{ Key: `runs/r1/${id}/SUCCEEDED_0.json`, Size: expect.any(Number) }],
      },
    });
    const succeeded = await readJson('results', `runs/r1/${id}/SUCCEEDED_0.json`);
    expect(succeeded).toHaveLength(3);
    expect(succeeded[0]).toEqual({
      ExecutionArn: expect.stringMatching(/:execution:rotation\/Accounts:/),
      Input: JSON.stringify(accounts(1)[0]),
      InputDetails: { Included: true },
      Name: expect.any(String),
      Output: JSON.stringify({ done: '100000000000' }),
      OutputDetails: { Included: true },
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      StartDate: expect.any(String),
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:rotation/Accounts',
      Status: 'SUCCEEDED',
      StopDate: expect.any(String),
    });
    const failed = await readJson('results', `runs/r1/${id}/FAILED_0.json`);
    expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'AccountUnreachable' })]);
  });

  it('writes the children never started to PENDING_0.json when the Map Run fails on its threshold', async () => {
    await putPlan('plan.json', accounts(5));
    const sfn = engine(async () => {
      throw new AccountUnreachable('down');
    });
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        MaxConcurrency: 1,
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'results', Prefix: 'runs' },
        },
      }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    const [child] = sfn.listExecutions({ stateMachineName: 'rotation/Accounts' });
    const id = child!.mapRunArn!.split(':').at(-1);
    const pending = await readJson('results', `runs/${id}/PENDING_0.json`);
    expect(pending).toHaveLength(4);
    expect(pending[0]).toMatchObject({ Status: 'PENDING', Input: JSON.stringify(accounts(2)[1]) });
  });

  it('fails with States.ResultWriterFailed when the results cannot be written', async () => {
    await putPlan('plan.json', accounts(1));
    const sfn = engine(echo);
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'nobody' } },
      }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.ResultWriterFailed' });
    expect(parent.cause).toContain('NoSuchBucket');
  });

  it('writes the outputs flattened with WriterConfig Transformation FLATTEN', async () => {
    await putPlan('plan.json', accounts(2));
    const sfn = engine(async (input: Account) => [input.accountId, 'x']);
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'results' },
          WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSON' },
        },
      }),
    );

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });

    const key = (parent.output as { ResultWriterDetails: { Key: string } }).ResultWriterDetails.Key;
    expect(await readJson('results', key.replace('manifest.json', 'SUCCEEDED_0.json'))).toEqual([
      '100000000000',
      'x',
      '100000000001',
      'x',
    ]);
  });
});

describe('Distributed Map: concurrency and quotas', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const probe = () => {
    const seen = { running: 0, highest: 0, calls: 0 };
    const handler = async () => {
      seen.calls += 1;
      seen.running += 1;
      seen.highest = Math.max(seen.highest, seen.running);
      await sleep(5);
      seen.running -= 1;
      return {};
    };
    return { seen, handler };
  };

  it('never runs more child executions at once than MaxConcurrency', async () => {
    await putPlan('plan.json', accounts(60));
    const { seen, handler } = probe();
    const sfn = engine(handler);
    sfn.registerStateMachine('rotation', fanOut({ MaxConcurrencyPath: '$.concurrency', ResultPath: null }));

    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json', concurrency: 7 });

    expect(parent.status).toBe('SUCCEEDED');
    expect(seen.calls).toBe(60);
    expect(seen.highest).toBe(7);
  });

  it('runs at most childExecutionsAtOnce children in process when MaxConcurrency is 0 (10,000 on AWS)', async () => {
    await putPlan('plan.json', accounts(60));
    const { seen, handler } = probe();
    const sfn = engine(handler, { childExecutionsAtOnce: 25 });
    sfn.registerStateMachine('rotation', fanOut({ MaxConcurrency: 0, ResultPath: null }));

    await sfn.startExecution('rotation', { planKey: 'plan.json' });

    expect(seen.highest).toBe(25);
  });

  it('fails a Map Run started past the open Map Runs quota', async () => {
    await putPlan('plan.json', accounts(3));
    const { handler } = probe();
    const sfn = engine(handler, { distributedMapLimits: { openMapRuns: 1 } });
    sfn.registerStateMachine('rotation', fanOut({ MaxConcurrency: 1, ResultPath: null }));

    const [first, second] = await Promise.all([
      sfn.startExecution('rotation', { planKey: 'plan.json' }),
      sfn.startExecution('rotation', { planKey: 'plan.json' }),
    ]);

    expect(first!.status).toBe('SUCCEEDED');
    expect(second).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(second!.cause).toMatch(/1 open Map Runs/);
  });

  it('fails when ReaderConfig MaxItemsPath gives a value AWS would refuse, or nothing', async () => {
    await putPlan('plan.jsonl', '{"accountId":"1"}\n');
    const sfn = engine(echo);
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL', MaxItemsPath: '$.limit' },
          Parameters: { Bucket: BUCKET, Key: 'plan.jsonl' },
        },
      }),
    );

    const zero = await sfn.startExecution('rotation', { limit: 0 });
    const missing = await sfn.startExecution('rotation', {});

    expect(zero).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(zero.cause).toMatch(/MaxItemsPath \(\$\.limit\) gave 0/);
    expect(missing.cause).toMatch(/MaxItemsPath \(\$\.limit\) gave null/);
  });

  it('runs 100,000 accounts read from S3 in batches of 100 in seconds', async () => {
    await putPlan('plan.json', accounts(100_000));
    let items = 0;
    const sfn = engine(async (input: { Items: Account[] }) => {
      items += input.Items.length;
      return { handled: input.Items.length };
    });
    sfn.registerStateMachine(
      'rotation',
      fanOut({
        ItemBatcher: { MaxItemsPerBatch: 100 },
        ResultSelector: { 'batches.$': 'States.ArrayLength($)' },
      }),
    );
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

    const started = performance.now();
    const parent = await sfn.startExecution('rotation', { planKey: 'plan.json' });
    const elapsedMs = performance.now() - started;
    clearInterval(sampler);

    expect(parent).toMatchObject({ status: 'SUCCEEDED', output: { batches: 1_000 }, historyEventCount: 8 });
    expect(items).toBe(100_000);
    expect(sfn.listExecutions({ stateMachineName: 'rotation/Accounts' })).toHaveLength(1_000);
    expect(elapsedMs).toBeLessThan(30_000);
    console.info(
      `100,000 items in 1,000 child executions: ${Math.round(elapsedMs)} ms, peak RSS ${Math.round(peakRss / 2 ** 20)} MiB`,
    );
  });
});

describe('Distributed Map: registration', () => {
  const withMap = (map: Record<string, unknown>) => fanOut(map);
  // Every row has its options: jest would pass its done callback in place of a missing fourth value.
  const rejected: [string, object, RegExp, LocalStepFunctionsOptions][] = [
    [
      'an ItemReader without an S3 client',
      withMap({}),
      /field "ItemReader" reads from S3, and the engine has no S3 client \(option "s3"\)/,
      { s3: undefined },
    ],
    [
      'a CSV ItemReader',
      withMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' },
          Parameters: { Bucket: BUCKET, Key: 'plan.csv' },
        },
      }),
      /"ItemReader.ReaderConfig.InputType" is "CSV"; JSON and JSONL run locally/,
      {},
    ],
    [
      'an s3:listObjectsV2 ItemReader',
      withMap({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:listObjectsV2',
          Parameters: { Bucket: BUCKET, Prefix: 'p' },
        },
      }),
      /"ItemReader.Resource" is "arn:aws:states:::s3:listObjectsV2"; only arn:aws:states:::s3:getObject/,
      {},
    ],
    [
      'an ItemBatcher with no bound',
      withMap({ ItemBatcher: { BatchInput: {} } }),
      /needs MaxItemsPerBatch/,
      {},
    ],
    [
      'MaxInputBytesPerBatch over 256 KiB',
      withMap({ ItemBatcher: { MaxInputBytesPerBatch: 262_145 } }),
      /MaxInputBytesPerBatch" must be an integer from 1 to 262144/,
      {},
    ],
    [
      'ToleratedFailureCount and its Path together',
      withMap({ ToleratedFailureCount: 1, ToleratedFailureCountPath: '$.n' }),
      /give "ToleratedFailureCount" or "ToleratedFailureCountPath", not both/,
      {},
    ],
    [
      '$$.Execution.StartTime in ItemSelector',
      withMap({ ItemSelector: { 'at.$': '$$.Execution.StartTime' } }),
      /field "ItemSelector" references \$\$\.Execution\.StartTime/,
      {},
    ],
    ['a Label AWS refuses', withMap({ Label: 'two words' }), /field "Label" must be 1 to 40 characters/, {}],
    [
      'Parameters on a Distributed Map',
      withMap({ Parameters: { 'a.$': '$.a' } }),
      /field "Parameters": a Distributed Map takes ItemSelector/,
      {},
    ],
    [
      'a ResultWriter without an S3 client',
      withMap({
        ItemReader: undefined,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'results' } },
      }),
      /field "ResultWriter" writes to S3, and the engine has no S3 client/,
      { s3: undefined },
    ],
    [
      'a Distributed Map inside an inline Map',
      {
        StartAt: 'Outer',
        States: {
          Outer: {
            Type: 'Map',
            MaxConcurrency: 2,
            ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...withMap({ ItemReader: undefined }) },
            End: true,
          },
        },
      },
      /"For Each Account": is a Distributed Map inside the inline Map "Outer"/,
      {},
    ],
  ];

  it.each(rejected)('rejects %s', (_, definition, message, options) => {
    const sfn = engine(echo, options);
    let error: Error | undefined;
    try {
      sfn.registerStateMachine('rotation', JSON.parse(JSON.stringify(definition)));
    } catch (thrown) {
      error = thrown as Error;
    }
    expect(error?.name).toBe('InvalidDefinition');
    expect(error?.message).toMatch(message);
  });

  it('checks the ItemProcessor as any definition: an unbound Task in it is refused', () => {
    const sfn = new LocalStepFunctions({ s3 });
    expect(() => sfn.registerStateMachine('rotation', fanOut())).toThrow(
      /"Handle Account": field "Resource" .* has no local binding/,
    );
  });

  it('refuses to bind the resource a Distributed Map runs as', () => {
    expect(() => engine(echo).bindResource('arn:aws:states:::local:distributedMapRun', echo)).toThrow(
      expect.objectContaining({ name: 'InvalidArn' }),
    );
  });
});
