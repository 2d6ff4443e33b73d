import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { mockDeployedStacks } from '../support/deployed-stacks';
import { STATE_MACHINE_OUTPUTS } from '../../cli/deployed-stack';
import { executionsCommand } from '../../cli/executions';
import { main } from '../../cli/main';
import { replayCommand } from '../../cli/replay';
import { validateAuditEvent } from '../../events/schemas';
import { replayNameOf } from '../../functions/shared/domain/replay';

/**
 * The AWS side of `executions` and `replay`: the deployed stack's outputs (CloudFormation), Step Functions and the
 * audit bus, mocked at the SDK. The names the outputs give follow no convention the CLI could rebuild.
 */

const stacks = mockDeployedStacks();
const { cloudFormation } = stacks;
const sfn = mockClient(SFNClient as never);
const eventBridge = mockClient(EventBridgeClient as never);

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const STACK = 'trust-bridge-prod';
const AUDIT_BUS = 'tb-prod-audit-7QK2';
const machineArn = (machine: string) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:tb-prod-${machine}-7QK2`;
const executionArn = (machine: string, name: string) =>
  `${machineArn(machine).replace(':stateMachine:', ':execution:')}:${name}`;
const ROTATE = machineArn('rotate-svids');
const SYNC = machineArn('sync-secrets');
const HOUR = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR);

let printed: string[];
let errors: string[];
const run = async (command: typeof replayCommand, ...argv: string[]) => {
  printed = [];
  const code = await command([...argv, '--aws', '--region', REGION, '--stage', 'prod', '--json'], (l) =>
    printed.push(l),
  );
  return { code, out: printed.length > 0 ? JSON.parse(printed.join('\n')) : undefined };
};

const notFound = () => new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });

/** A described execution: FAILED with `cause` unless told otherwise. */
const described = (
  machine: string,
  name: string,
  extra: Partial<DescribeExecutionCommandOutput> = {},
): DescribeExecutionCommandOutput => ({
  $metadata: {},
  executionArn: executionArn(machine, name),
  stateMachineArn: machineArn(machine),
  name,
  status: 'FAILED',
  startDate: ago(2),
  stopDate: ago(1.9),
  input: '{}',
  ...extra,
});

const exists = (output: DescribeExecutionCommandOutput) =>
  sfn
    .on(DescribeExecutionCommand as never, { executionArn: output.executionArn } as never)
    .resolves(output as never);

/** DescribeStacks for `name`: its outputs, the state machines' and the audit bus's unless `omit` drops some. */
const deployed = (name: string, omit: string[] = []) => {
  const outputs: Record<string, string> = {
    ...Object.fromEntries(Object.entries(STATE_MACHINE_OUTPUTS).map(([m, key]) => [key, machineArn(m)])),
    AuditBusName: AUDIT_BUS,
    AuditBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${AUDIT_BUS}`,
  };
  stacks.deploy(name, Object.fromEntries(Object.entries(outputs).filter(([key]) => !omit.includes(key))));
};

const describeStacksCalls = stacks.described;

const putEntries = () =>
  eventBridge
    .commandCalls(PutEventsCommand as never)
    .flatMap((c) => (c.args[0] as PutEventsCommand).input.Entries ?? []);

beforeEach(() => {
  stacks.reset();
  sfn.reset();
  eventBridge.reset();
  errors = [];
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  deployed(STACK);
  sfn.on(DescribeExecutionCommand as never).rejects(notFound());
  eventBridge
    .on(PutEventsCommand as never)
    .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] } as never);
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('executions --aws', () => {
  it('pages ListExecutions with the status filter, stops past --since, and describes the failed runs', async () => {
    const item = (machine: string, name: string, hoursAgo: number) => ({
      executionArn: executionArn(machine, name),
      stateMachineArn: machineArn(machine),
      name,
      status: 'FAILED',
      startDate: ago(hoursAgo),
      stopDate: ago(hoursAgo - 0.1),
    });
    sfn
      .on(ListExecutionsCommand as never, { stateMachineArn: ROTATE } as never)
      .resolvesOnce({
        executions: [item('rotate-svids', 'r-1', 1), item('rotate-svids', 'r-2', 5)],
        nextToken: 'p2',
      } as never)
      .resolvesOnce({
        executions: [item('rotate-svids', 'r-3', 20), item('rotate-svids', 'r-4', 30)],
        nextToken: 'p3',
      } as never);
    sfn
      .on(ListExecutionsCommand as never, { stateMachineArn: SYNC } as never)
      .resolves({ executions: [item('sync-secrets', 's-1', 3)] } as never);
    const failedAt = { 'r-1': 1, 'r-2': 5, 'r-3': 20, 's-1': 3 };
    for (const [name, hoursAgo] of Object.entries(failedAt)) {
      const machine = name.startsWith('r') ? 'rotate-svids' : 'sync-secrets';
      exists(
        described(machine, name, {
          startDate: ago(hoursAgo),
          error: 'AccountsFailed',
          cause: '{"accounts":["111122223333"],"force":false}',
        }),
      );
    }

    const { code, out } = await run(executionsCommand, '--status', 'failed', '--since', '24h');

    expect(code).toBe(0);
    expect(out.map((r: { name: string }) => r.name)).toEqual(['r-1', 's-1', 'r-2', 'r-3']);
    expect(out[0]).toMatchObject({ machine: 'rotate-svids', status: 'FAILED', error: 'AccountsFailed' });
    const lists = sfn
      .commandCalls(ListExecutionsCommand as never)
      .map((c) => (c.args[0] as ListExecutionsCommand).input);
    // r-4 is older than 24 h: page p3 is never asked for.
    expect(lists).toEqual([
      { stateMachineArn: ROTATE, maxResults: 100, statusFilter: 'FAILED' },
      { stateMachineArn: ROTATE, maxResults: 100, statusFilter: 'FAILED', nextToken: 'p2' },
      { stateMachineArn: SYNC, maxResults: 100, statusFilter: 'FAILED' },
    ]);
    // The ARNs are the stack's outputs, looked up once: no state machine is searched for by name.
    expect(describeStacksCalls()).toEqual([STACK]);
    expect(sfn.commandCalls(ListStateMachinesCommand as never)).toHaveLength(0);
  });
});

describe('the deployed stack --aws reads', () => {
  it('is trust-bridge-<stage>: a stage not deployed is named, with the stack, and nothing else is called', async () => {
    await expect(executionsCommand(['--aws', '--stage', 'qa', '--region', REGION])).rejects.toThrow(
      'no stack trust-bridge-qa in region eu-west-1: deploy it (npx osls deploy --stage qa), or give the --stage, --stack or --region it was deployed with',
    );
    expect(describeStacksCalls()).toEqual(['trust-bridge-qa']);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('is the one --stack names, when given', async () => {
    deployed('platform-trust-bridge');
    sfn.on(ListExecutionsCommand as never).resolves({ executions: [] } as never);
    const { code, out } = await run(executionsCommand, '--stack', 'platform-trust-bridge', '--all');
    expect(code).toBe(0);
    expect(out).toEqual([]);
    expect(describeStacksCalls()).toEqual(['platform-trust-bridge']);
    expect(
      sfn
        .commandCalls(ListExecutionsCommand as never)
        .map((c) => (c.args[0] as ListExecutionsCommand).input.stateMachineArn),
    ).toEqual([
      machineArn('rotate-svids'),
      machineArn('rotate-svids-chunk'),
      machineArn('sync-secrets'),
      machineArn('sync-secrets-chunk'),
    ]);
  });

  it('must have the state machine outputs: a stack deployed before them says which are missing', async () => {
    deployed(STACK, ['RotateSvidsStateMachineArn', 'SyncSecretsChunkStateMachineArn']);
    await expect(run(executionsCommand)).rejects.toThrow(
      'stack trust-bridge-prod has no outputs RotateSvidsStateMachineArn, SyncSecretsChunkStateMachineArn: deploy this version first',
    );
    expect(sfn.calls()).toHaveLength(0);
  });

  it('must have AuditBusName before replay starts anything', async () => {
    deployed(STACK, ['AuditBusName']);
    exists(
      described('sync-secrets', 'sync-43', {
        error: 'AccountsFailed',
        cause: '{"accounts":["111122223333"]}',
      }),
    );
    await expect(run(replayCommand, 'sync-43')).rejects.toThrow(
      'stack trust-bridge-prod has no output AuditBusName: deploy this version first',
    );
    expect(sfn.commandCalls(StartExecutionCommand as never)).toHaveLength(0);
    expect(putEntries()).toEqual([]);
    // What the operator sees, and the exit code.
    expect(await main(['replay', 'sync-43', '--aws', '--region', REGION, '--stage', 'prod'])).toBe(1);
    expect(errors).toContain(
      'trust-bridge replay: DeployedStackError: stack trust-bridge-prod has no output AuditBusName: deploy this version first',
    );
    // A dry run changes nothing, and needs no bus.
    expect((await run(replayCommand, 'sync-43', '--dry-run')).code).toBe(0);
  });

  it('are flags of --aws only', async () => {
    expect(await executionsCommand(['--stack', 'x'])).toBe(2);
    expect(errors.join('\n')).toContain('--stack needs --aws');
    expect(cloudFormation.calls()).toHaveLength(0);
  });
});

describe('replay --aws', () => {
  it('starts a new execution of exactly the failed accounts, named from the original and linked, and audits it', async () => {
    exists(
      described('sync-secrets', 'sync-42', {
        error: 'AccountsFailed',
        cause: '{"accounts":["111122223333","777788889999"],"secret":"db:password"}',
      }),
    );
    sfn.on(StartExecutionCommand as never).resolves({
      executionArn: executionArn('sync-secrets', 'sync-42-replay'),
      startDate: new Date(),
    } as never);

    const { code, out } = await run(replayCommand, 'sync-42');

    expect(code).toBe(0);
    const [start] = sfn
      .commandCalls(StartExecutionCommand as never)
      .map((c) => (c.args[0] as StartExecutionCommand).input);
    expect(start).toEqual({
      stateMachineArn: SYNC,
      name: 'sync-42-replay',
      input: expect.any(String),
    });
    expect(JSON.parse(start?.input ?? '')).toEqual({
      accounts: ['111122223333', '777788889999'],
      secret: 'db:password',
      replayOf: executionArn('sync-secrets', 'sync-42'),
    });
    expect(out).toEqual([
      expect.objectContaining({ action: 'replay', execution: 'sync-42-replay', items: 2, result: 'started' }),
    ]);
    const [entry] = putEntries();
    // On the bus the stack's AuditBusName output names, found with the machines in one DescribeStacks.
    expect(describeStacksCalls()).toEqual([STACK]);
    expect(entry).toMatchObject({
      EventBusName: AUDIT_BUS,
      Source: 'trust-bridge.ops',
      DetailType: 'Execution Replayed',
    });
    const detail = JSON.parse(entry?.Detail ?? '');
    expect(detail).toMatchObject({
      originalExecutionArn: executionArn('sync-secrets', 'sync-42'),
      executionArn: executionArn('sync-secrets', 'sync-42-replay'),
      stateMachineName: 'tb-prod-sync-secrets-7QK2',
      mode: 'replay',
      itemCount: 2,
    });
    expect(
      validateAuditEvent({
        id: '1',
        source: entry?.Source,
        'detail-type': entry?.DetailType,
        time: new Date().toISOString(),
        detail,
      }),
    ).toEqual([]);
  });

  it('replays a run whose failed accounts did not fit its cause from where the run kept them', async () => {
    const replayFrom = { bucket: 'tb-prod-run-files', key: 'rotate-svids/rot-9/replay.json' };
    exists(
      described('rotate-svids', 'rot-9', {
        error: 'AccountsFailed',
        cause: JSON.stringify({ replayFrom, failedAccounts: 40_000 }),
      }),
    );
    sfn.on(StartExecutionCommand as never).resolves({
      executionArn: executionArn('rotate-svids', 'rot-9-replay'),
      startDate: new Date(),
    } as never);

    const dry = await run(replayCommand, 'rot-9', '--dry-run');
    expect(dry.out[0]).toMatchObject({
      items: 40_000,
      result: `dry run: would start with the 40000 accounts kept in s3://${replayFrom.bucket}/${replayFrom.key}`,
    });
    expect(sfn.commandCalls(StartExecutionCommand as never)).toHaveLength(0);

    const { code, out } = await run(replayCommand, 'rot-9');
    expect(code).toBe(0);
    const input = JSON.parse(
      (sfn.commandCalls(StartExecutionCommand as never)[0]?.args[0] as StartExecutionCommand).input.input ??
        '',
    );
    // The plan of the new run reads the accounts (and force) from the file: the input stays small.
    expect(input).toEqual({ replayFrom, replayOf: executionArn('rotate-svids', 'rot-9') });
    expect(out).toEqual([expect.objectContaining({ action: 'replay', items: 40_000, result: 'started' })]);
  });

  it('reports ExecutionAlreadyExists as already replayed, starts nothing new and emits nothing', async () => {
    exists(
      described('rotate-svids', 'rot-7', {
        error: 'AccountsFailed',
        cause: '{"accounts":["111122223333"],"force":true}',
      }),
    );
    sfn
      .on(StartExecutionCommand as never)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    const { code, out } = await run(replayCommand, executionArn('rotate-svids', 'rot-7'));

    expect(code).toBe(0);
    expect(out).toEqual([
      expect.objectContaining({
        action: 'replay',
        execution: 'rot-7-replay',
        result: 'already replayed as rot-7-replay',
      }),
    ]);
    const input = JSON.parse(
      (sfn.commandCalls(StartExecutionCommand as never)[0]?.args[0] as StartExecutionCommand).input.input ??
        '',
    );
    expect(input).toEqual({
      accounts: ['111122223333'],
      force: true,
      replayOf: executionArn('rotate-svids', 'rot-7'),
    });
    expect(putEntries()).toEqual([]);
  });

  it('finds an earlier replay first and does not call StartExecution', async () => {
    exists(
      described('rotate-svids', 'rot-8', {
        error: 'AccountsFailed',
        cause: '{"accounts":["111122223333"],"force":false}',
      }),
    );
    exists(described('rotate-svids', 'rot-8-replay', { status: 'SUCCEEDED' }));

    const { code, out } = await run(replayCommand, 'rot-8');

    expect(code).toBe(0);
    expect(out[0].result).toBe('already replayed as rot-8-replay (SUCCEEDED)');
    expect(sfn.commandCalls(StartExecutionCommand as never)).toHaveLength(0);
  });

  it('redrives a failure outside the fan-out, and with --wait reports how it ended', async () => {
    const name = 'rot-9';
    sfn
      .on(DescribeExecutionCommand as never, { executionArn: executionArn('rotate-svids', name) } as never)
      .resolvesOnce(
        described('rotate-svids', name, { error: 'EnrollmentsUnavailable', cause: 'registry down' }) as never,
      )
      .resolves(
        described('rotate-svids', name, {
          status: 'SUCCEEDED',
          redriveCount: 1,
          redriveDate: new Date(),
        }) as never,
      );
    sfn.on(RedriveExecutionCommand as never).resolves({ redriveDate: new Date() } as never);

    const { code, out } = await run(replayCommand, name, '--wait', '--bus', 'ops-audit');

    expect(code).toBe(0);
    expect(
      sfn
        .commandCalls(RedriveExecutionCommand as never)
        .map((c) => (c.args[0] as RedriveExecutionCommand).input),
    ).toEqual([{ executionArn: executionArn('rotate-svids', name) }]);
    expect(sfn.commandCalls(StartExecutionCommand as never)).toHaveLength(0);
    expect(out).toEqual([
      expect.objectContaining({
        action: 'redrive',
        executionArn: executionArn('rotate-svids', name),
        status: 'SUCCEEDED',
      }),
    ]);
    // --bus overrides the stack's AuditBusName output.
    expect(putEntries()[0]?.EventBusName).toBe('ops-audit');
    expect(JSON.parse(putEntries()[0]?.Detail ?? '')).toMatchObject({ mode: 'redrive', redriveCount: 1 });
  });

  it('replays the parent of a chunk execution', async () => {
    const parent = executionArn('sync-secrets', 'sync-50');
    exists(
      described('sync-secrets-chunk', 'chunk-1', {
        input: JSON.stringify({
          accounts: ['111122223333'],
          AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parent,
        }),
      }),
    );
    exists(described('sync-secrets', 'sync-50', { status: 'SUCCEEDED' }));

    const { code, out } = await run(replayCommand, 'chunk-1');

    expect(code).toBe(0);
    expect(out).toEqual([
      expect.objectContaining({
        original: 'sync-50',
        action: 'none',
        result: 'nothing to replay (SUCCEEDED)',
      }),
    ]);
  });

  it('--dry-run with --failed calls nothing that changes anything', async () => {
    sfn.on(ListExecutionsCommand as never).resolves({ executions: [] } as never);
    sfn.on(ListExecutionsCommand as never, { stateMachineArn: ROTATE } as never).resolves({
      executions: [
        {
          executionArn: executionArn('rotate-svids', 'rot-1'),
          name: 'rot-1',
          status: 'FAILED',
          startDate: ago(1),
        },
      ],
    } as never);
    exists(
      described('rotate-svids', 'rot-1', {
        error: 'AccountsFailed',
        cause: '{"accounts":["111122223333"],"force":false}',
      }),
    );

    const { code, out } = await run(replayCommand, '--failed', '--dry-run');

    expect(code).toBe(0);
    expect(out).toEqual([expect.objectContaining({ action: 'replay', execution: 'rot-1-replay', items: 1 })]);
    expect(sfn.commandCalls(StartExecutionCommand as never)).toHaveLength(0);
    expect(sfn.commandCalls(RedriveExecutionCommand as never)).toHaveLength(0);
    expect(putEntries()).toEqual([]);
  });

  it('refuses an unknown execution with exit 2', async () => {
    const { code } = await run(replayCommand, 'nobody');
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain('no execution "nobody"');
  });
});

describe('replay names', () => {
  it('fit 80 characters, keep the allowed characters and differ for names that share their start', () => {
    const long = `${'a'.repeat(70)}-one-${'b'.repeat(20)}`;
    const other = `${'a'.repeat(70)}-two-${'b'.repeat(20)}`;
    expect(replayNameOf('sync-1')).toBe('sync-1-replay');
    expect([...replayNameOf(long)]).toHaveLength(80);
    expect(replayNameOf(long)).toMatch(/^a{64}-[0-9a-f]{8}-replay$/);
    expect(replayNameOf(long)).not.toBe(replayNameOf(other));
  });
});
