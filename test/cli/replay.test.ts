import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { executionsCommand } from '../../cli/executions';
import { replayCommand } from '../../cli/replay';
import type { WorkflowRun } from '../../cli/runs/workflow-runs';
import type { ExecutionRecord } from '../../engine';
import { validateAuditEvent } from '../../events/schemas';
import type { Dependencies } from '../../functions/shared/dependencies';
import { CertificateRequestFailed } from '../../functions/shared/domain/errors';
import { readAuditLog } from '../../local-stack/stand-ins/local-event-bus';
import { createLocalStack } from '../../local-stack/stack';
import { enrollment, type EnrollmentRecord, startLocalStack } from '../support/local-run';

/**
 * The operator's `executions` and `replay` on the embedded default: runs recorded by one stack, listed and
 * replayed by later processes over the same data directory.
 */

const PAYMENTS = '111122223333';
const LEDGER = '777788889999';
const SEARCH = '012345678901';
const ENROLLMENTS: EnrollmentRecord[] = [
  enrollment(PAYMENTS, 'payments'),
  enrollment(LEDGER, 'ledger'),
  enrollment(SEARCH, 'search'),
];

/** The CA refuses the ledger and search SVIDs while `refusing` is set: two accounts fail, one succeeds. */
const refuseLedgerAndSearch = (deps: Dependencies): Dependencies => {
  const issue = deps.authority.issue.bind(deps.authority);
  deps.authority.issue = async (request) => {
    if (/\/(ledger|search)$/.test(request.spiffeId))
      throw new CertificateRequestFailed('CA policy refused it');
    return issue(request);
  };
  return deps;
};

let env: Awaited<ReturnType<typeof startLocalStack>>;
let fanOutFailure: ExecutionRecord;
let planFailure: ExecutionRecord;
let printed: string[];
let errors: string[];

const print = (line: string) => void printed.push(line);
const local = () => ['--data-dir', env.dataDir, '--enrollments', env.enrollmentsPath];
const executions = async (...argv: string[]) => {
  printed = [];
  const code = await executionsCommand([...argv, '--data-dir', env.dataDir], print);
  return { code, out: printed.join('\n') };
};
const replay = async (...argv: string[]) => {
  printed = [];
  const code = await replayCommand([...argv, ...local()], print);
  return { code, out: printed.join('\n') };
};
const json = <T>(out: string): T => JSON.parse(out) as T;
const replayEvents = async () =>
  (await readAuditLog(env.dataDir, 'trust-bridge-audit')).filter((e) => e.source === 'trust-bridge.ops');
/** Every file under the data directory with a digest of its bytes: equal snapshots, nothing changed. */
const snapshot = (dir: string, files: Record<string, string> = {}): Record<string, string> => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) snapshot(path, files);
    else files[path] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return files;
};

beforeAll(async () => {
  env = await startLocalStack(ENROLLMENTS, { decorate: refuseLedgerAndSearch });
  fanOutFailure = await env.stack.rotate();
  // A plan step that fails before any fan-out: the registry cannot be read.
  writeFileSync(env.enrollmentsPath, '{ not json');
  planFailure = await env.stack.rotate();
  await env.stack.close();
  env.writeEnrollments(ENROLLMENTS);
});
afterAll(() => rmSync(env.dir, { recursive: true, force: true }));
beforeEach(() => {
  errors = [];
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('the runs the tests replay', () => {
  it('failed in the fan-out for two accounts, and in the plan step', () => {
    expect(fanOutFailure).toMatchObject({ status: 'FAILED', error: 'AccountsFailed' });
    expect(JSON.parse(fanOutFailure.cause ?? '')).toEqual({ accounts: [SEARCH, LEDGER], force: false });
    expect(planFailure).toMatchObject({ status: 'FAILED', error: 'InvalidEnrollment' });
  });
});

describe('execution records', () => {
  it('survive a restart: a new stack over the data directory describes, lists and keeps their names', async () => {
    const stack = await createLocalStack({ dataDir: env.dataDir, enrollmentsPath: env.enrollmentsPath });
    try {
      expect(stack.engine.describeExecution(fanOutFailure.executionArn)).toEqual(fanOutFailure);
      const listed = stack.engine.listExecutions({ stateMachineName: 'rotate-svids' });
      expect(listed.map((r) => r.name)).toEqual([planFailure.name, fanOutFailure.name]);
      expect(stack.engine.listExecutions({ stateMachineName: 'rotate-svids-chunk' })).toHaveLength(1);
      await expect(
        stack.engine.startExecution('rotate-svids', {}, { name: fanOutFailure.name }),
      ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    } finally {
      await stack.close();
    }
  });
});

describe('trust-bridge executions (local)', () => {
  it('lists failed top-level runs newest first as JSON, without starting a stack', async () => {
    const { code, out } = await executions('--status', 'FAILED', '--json');

    expect(code).toBe(0);
    const runs = json<WorkflowRun[]>(out);
    expect(runs.map((r) => [r.name, r.machine, r.status, r.error])).toEqual([
      [planFailure.name, 'rotate-svids', 'FAILED', 'InvalidEnrollment'],
      [fanOutFailure.name, 'rotate-svids', 'FAILED', 'AccountsFailed'],
    ]);
    expect(runs[1]).toMatchObject({ executionArn: fanOutFailure.executionArn, cause: fanOutFailure.cause });
  });

  it('shows chunks with --all, each naming its parent, and prints a table', async () => {
    const { code, out } = await executions('--all', '--state-machine', 'rotate');

    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+MACHINE\s+STATUS\s+STARTED\s+DURATION\s+ERROR\s+NOTE$/);
    const chunk = lines.find((l) => l.includes('rotate-svids-chunk'));
    expect(chunk).toContain(`chunk of ${fanOutFailure.name}`);
    expect(lines.find((l) => l.startsWith(fanOutFailure.name))).toContain('AccountsFailed (2 accounts)');
  });

  it('filters by --since and refuses a malformed --since, --status or --state-machine with exit 2', async () => {
    expect(json<unknown[]>((await executions('--since', '2099-01-01T00:00:00Z', '--json')).out)).toEqual([]);
    expect((await executions('--since', '1h', '--json')).code).toBe(0);

    expect((await executions('--since', 'yesterday')).code).toBe(2);
    expect(errors.join('\n')).toContain(
      '--since "yesterday": give a span (30m, 24h, 7d) or an ISO-8601 time',
    );
    expect((await executions('--status', 'BROKEN')).code).toBe(2);
    expect((await executions('--state-machine', 'deploy')).code).toBe(2);
    expect(errors.join('\n')).toContain('--state-machine "deploy": rotate or sync');
  });
});

describe('trust-bridge replay (local)', () => {
  it('--dry-run says what it would do and changes nothing', async () => {
    const before = snapshot(env.dataDir);

    const { code, out } = await replay('--failed', '--dry-run', '--json');

    expect(code).toBe(0);
    expect(json<unknown[]>(out)).toEqual([
      expect.objectContaining({ original: planFailure.name, action: 'redrive' }),
      expect.objectContaining({
        original: fanOutFailure.name,
        action: 'replay',
        execution: `${fanOutFailure.name}-replay`,
        items: 2,
      }),
    ]);
    expect(snapshot(env.dataDir)).toEqual(before);
  });

  it('refuses an unknown execution with exit 2 and starts nothing', async () => {
    const before = snapshot(env.dataDir);

    const { code } = await replay(fanOutFailure.name, 'no-such-run');

    expect(code).toBe(2);
    expect(errors.join('\n')).toContain('no execution "no-such-run"');
    expect(snapshot(env.dataDir)).toEqual(before);
    expect((await replay()).code).toBe(2);
    expect((await replay('--failed', fanOutFailure.name)).code).toBe(2);
  });

  it('replays a fan-out failure as one new execution of only the failed accounts, linked, with an audit event', async () => {
    const { code, out } = await replay(fanOutFailure.name, '--json');

    expect(code).toBe(0);
    const name = `${fanOutFailure.name}-replay`;
    const [outcome] = json<Array<Record<string, unknown>>>(out);
    expect(outcome).toMatchObject({ action: 'replay', execution: name, items: 2, status: 'SUCCEEDED' });

    const listed = json<WorkflowRun[]>((await executions('--json')).out);
    const replayed = listed.find((r) => r.name === name);
    expect(replayed).toMatchObject({
      status: 'SUCCEEDED',
      replayOf: fanOutFailure.executionArn,
      input: { accounts: [SEARCH, LEDGER], force: false, replayOf: fanOutFailure.executionArn },
    });
    expect(listed).toHaveLength(3);
    const issued = (await env.auditEvents(name)).map((e) => [e['detail-type'], e.detail.accountId]);
    expect(issued.sort()).toEqual([
      ['SVID Issued', SEARCH],
      ['SVID Issued', LEDGER],
    ]);

    const events = await replayEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      'detail-type': 'Execution Replayed',
      detail: {
        originalExecutionArn: fanOutFailure.executionArn,
        executionArn: replayed?.executionArn,
        stateMachineName: 'rotate-svids',
        mode: 'replay',
        itemCount: 2,
      },
    });
    expect(validateAuditEvent(events[0])).toEqual([]);
  });

  it('a second replay of the same run, or of its chunk, creates nothing and exits 0', async () => {
    const before = snapshot(env.dataDir);
    const chunk = (await executions('--all', '--json')).out;
    const chunkName = json<WorkflowRun[]>(chunk).find(
      (r) => r.parentExecutionArn === fanOutFailure.executionArn,
    )?.name;

    const { code, out } = await replay(fanOutFailure.executionArn, chunkName ?? 'missing');

    expect(code).toBe(0);
    expect(out).toContain(`already replayed as ${fanOutFailure.name}-replay (SUCCEEDED)`);
    expect(out.split('\n')).toHaveLength(3);
    expect(snapshot(env.dataDir)).toEqual(before);
  });

  it('redrives a plan-step failure under its own ARN, once it can succeed', async () => {
    const { code, out } = await replay('--failed', '--json');

    expect(code).toBe(0);
    expect(json<unknown[]>(out)).toEqual([
      expect.objectContaining({
        original: planFailure.name,
        action: 'redrive',
        executionArn: planFailure.executionArn,
        status: 'SUCCEEDED',
      }),
      expect.objectContaining({ original: fanOutFailure.name, action: 'none' }),
    ]);
    const runs = json<WorkflowRun[]>((await executions('--json')).out);
    expect(runs.find((r) => r.name === planFailure.name)).toMatchObject({
      status: 'SUCCEEDED',
      startDate: planFailure.startDate,
      redriveCount: 1,
    });
    expect(runs).toHaveLength(3);
    const redrive = (await replayEvents()).find((e) => (e.detail as { mode: string }).mode === 'redrive');
    expect(redrive?.detail).toMatchObject({
      originalExecutionArn: planFailure.executionArn,
      executionArn: planFailure.executionArn,
      redriveCount: 1,
    });
    expect(validateAuditEvent(redrive)).toEqual([]);

    const again = await replay(planFailure.name);
    expect(again.code).toBe(0);
    expect(again.out).toContain('nothing to replay (SUCCEEDED, redriven ×1)');
    expect(await replayEvents()).toHaveLength(2);
  });
});

describe('a replay that fails again', () => {
  it('exits 1 and shows the new run FAILED', async () => {
    const other = await startLocalStack(ENROLLMENTS, { decorate: refuseLedgerAndSearch });
    try {
      const failed = await other.stack.rotate();
      await other.stack.close();
      // The failed accounts left the registry meanwhile: the replay's plan refuses them.
      other.writeEnrollments([enrollment(PAYMENTS, 'payments')]);
      printed = [];

      const code = await replayCommand(
        [failed.name, '--data-dir', other.dataDir, '--enrollments', other.enrollmentsPath, '--json'],
        print,
      );

      expect(code).toBe(1);
      expect(json<unknown[]>(printed.join('\n'))).toEqual([
        expect.objectContaining({ action: 'replay', execution: `${failed.name}-replay`, status: 'FAILED' }),
      ]);
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });
});
