import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { ExecutionRecord } from '../engine';
import { syncedSecretName, syncedSecretPrefix } from '../functions/shared/domain/synced-secret-name';
import type { SyncSummary } from '../functions/shared/domain/sync';
import { signedWebhookHeaders } from '../functions/shared/domain/webhook';
import {
  createLocalStack,
  type LocalServices,
  type LocalStack,
  readLocalStack,
  ROTATE_SVIDS,
  SYNC_SECRETS,
} from '../local-stack/stack';
import { markdownTable, peakRssMb, runScenarioInChild, WRITE_OPERATIONS } from './rotation-bench';
import { probeSecretsManager } from './secrets-manager-probe';
import { writeFleetEnrollments } from './fleet';

const ACCOUNTS = 100;
const SECRETS_PER_SERVICE = 100;
const ENVIRONMENT = 'prod';
/** Unchanged resyncs timed per scenario: one wall time is noisy on a shared machine, the median less so. */
const RESYNCS = 3;
/** The Secrets Manager operations that read a secret's value. */
const VALUE_READ_OPERATIONS = ['GetSecretValue', 'BatchGetSecretValue'];

/** The sample account and secret the webhook scenario changes (samples/enrollments.yaml, samples/keywhiz). */
const WEBHOOK_SERVICE = 'payments';
const WEBHOOK_ACCOUNT = '111122223333';
const WEBHOOK_SECRET = 'Database_Password';
const WEBHOOK_WARMUP = 5;
const WEBHOOK_P99_TARGET_MS = 250;
const WEBHOOK_WAIT_LIMIT_MS = 10_000;

interface SyncRunFigures {
  status: string;
  seconds: number;
  synced: number;
  unchanged: number;
  deleted: number;
  failed: number;
  keywhiz: { list: number; batch: number; single: number; denied: number };
  /** Summed over every enrolled account's Secrets Manager, by operation. */
  accountCalls: Record<string, number>;
  /** The central account's Secrets Manager (each agent reads its service's SVID there), by operation. */
  centralCalls: Record<string, number>;
  writes: number;
  valueReads: number;
  stateTransitions: number;
  executions: number;
}

interface ReconcileFigures {
  scenario: 'reconcile';
  accounts: number;
  secrets: number;
  accountConcurrency: number;
  peakRssMb: number;
  firstSync: SyncRunFigures;
  /** The first unchanged resync: the run measured against the targets (later ones count the same). */
  resync: SyncRunFigures;
  /** Wall times of all RESYNCS unchanged resyncs, and their median. */
  resyncSeconds: number[];
  resyncMedianSeconds: number;
  listingsPerAgent: number;
  accountCallsPer100Secrets: number;
  targets: Record<string, boolean>;
}

interface IdleAgentsFigures {
  scenario: 'idle';
  agents: number;
  /** Wall ms per agent of each unchanged reconcile, and their median. */
  msPerAgent: number[];
  medianMsPerAgent: number;
  peakRssMb: number;
  targets: Record<string, boolean>;
}

interface StartFigures {
  scenario: 'start';
  accounts: number;
  secretEnabled: number;
  exitCode: number | null;
  /** From the spawn of `trust-bridge start --once` to its exit: opening the stack and printing included. */
  totalSeconds: number;
  /** The top-level executions' own start-to-stop times, as recorded. */
  rotationSeconds: number;
  syncSeconds: number;
  rotationStatus: string;
  syncStatus: string;
  targets: Record<string, boolean>;
}

interface WebhookFigures {
  scenario: 'webhook';
  notifications: number;
  warmup: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  failedRuns: number;
  peakRssMb: number;
  targets: Record<string, boolean>;
}

const sum = (counts: Record<string, number>, operations?: string[]) =>
  Object.entries(counts).reduce((n, [op, c]) => n + (!operations || operations.includes(op) ? c : 0), 0);

const difference = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op, n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );

/** Writes the 100 enrollments and 100 small text secrets per service that the reconcile scenario syncs. */
const writeFleet = (dir: string) => {
  const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, ACCOUNTS, {
    firstAccountId: 200_000_000_000,
    secretEnabled: () => true,
  });
  const keywhizDir = join(dir, 'keywhiz');
  for (const { service } of enrollments) {
    mkdirSync(join(keywhizDir, service), { recursive: true });
    for (let j = 0; j < SECRETS_PER_SERVICE; j++) {
      writeFileSync(join(keywhizDir, service, `secret-${j}`), `${service} value ${j}\n`);
    }
  }
  return { enrollmentsPath, keywhizDir, accountIds: enrollments.map((e) => e.accountId) };
};

/** Calls of every account store and the central store, Keywhiz requests and executions so far. */
const snapshot = (stack: LocalStack, accountIds: string[]) => {
  const accountCalls: Record<string, number> = {};
  for (const id of accountIds) {
    for (const [op, n] of Object.entries(
      probeSecretsManager(stack.services.accountSecretsManager(id)).calls,
    )) {
      accountCalls[op] = (accountCalls[op] ?? 0) + n;
    }
  }
  return {
    accountCalls,
    centralCalls: { ...probeSecretsManager(stack.services.secretsManager).calls },
    keywhiz: { list: 0, batch: 0, single: 0, denied: 0, ...stack.services.keywhiz?.requests },
    executions: stack.engine.listExecutions().length,
  };
};

const measureSync = async (stack: LocalStack, accountIds: string[]): Promise<SyncRunFigures> => {
  const before = snapshot(stack, accountIds);
  const started = performance.now();
  const execution = await stack.sync();
  const seconds = (performance.now() - started) / 1000;
  const after = snapshot(stack, accountIds);
  const accountCalls = difference(after.accountCalls, before.accountCalls);
  const keywhiz = {
    list: after.keywhiz.list - before.keywhiz.list,
    batch: after.keywhiz.batch - before.keywhiz.batch,
    single: after.keywhiz.single - before.keywhiz.single,
    denied: after.keywhiz.denied - before.keywhiz.denied,
  };
  const runs = stack.engine.listExecutions().slice(before.executions);
  const output = (execution.output ?? {}) as Partial<SyncSummary>;
  return {
    status: execution.status,
    seconds: Math.round(seconds * 100) / 100,
    synced: output.synced ?? 0,
    unchanged: output.unchanged ?? 0,
    deleted: output.deleted ?? 0,
    failed: output.failed ?? 0,
    keywhiz,
    accountCalls,
    centralCalls: difference(after.centralCalls, before.centralCalls),
    writes: sum(accountCalls, WRITE_OPERATIONS),
    valueReads: keywhiz.batch + keywhiz.single + sum(accountCalls, VALUE_READ_OPERATIONS),
    stateTransitions: runs.reduce((n, r) => n + r.stateTransitions, 0),
    executions: runs.length,
  };
};

/**
 * A full reconcile of 10,000 secrets across 100 accounts: the first sync writes them all, the second finds
 * them all unchanged and is the one measured against the targets.
 */
const runReconcile = async (accountConcurrency: number): Promise<ReconcileFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-sync-bench-'));
  try {
    const { enrollmentsPath, keywhizDir, accountIds } = writeFleet(dir);
    const stack = await createLocalStack({
      dataDir: join(dir, 'data'),
      enrollmentsPath,
      keywhizDir,
      env: { SYNC_ACCOUNT_CONCURRENCY: String(accountConcurrency), ACCOUNT_CONCURRENCY: '40' },
    });
    try {
      const rotation = await stack.rotate();
      if (rotation.status !== 'SUCCEEDED') throw new Error(`rotation ${rotation.status}: ${rotation.error}`);
      const firstSync = await measureSync(stack, accountIds);
      const resyncs: SyncRunFigures[] = [];
      for (let i = 0; i < RESYNCS; i++) resyncs.push(await measureSync(stack, accountIds));
      const [resync] = resyncs as [SyncRunFigures];
      const resyncSeconds = resyncs.map((r) => r.seconds);
      const secrets = ACCOUNTS * SECRETS_PER_SERVICE;
      const listingsPerAgent = resync.keywhiz.list / ACCOUNTS;
      const accountCallsPer100Secrets = (sum(resync.accountCalls) / secrets) * 100;
      return {
        scenario: 'reconcile',
        accounts: ACCOUNTS,
        secrets,
        accountConcurrency,
        peakRssMb: peakRssMb(),
        firstSync,
        resync,
        resyncSeconds,
        resyncMedianSeconds: [...resyncSeconds].sort((a, b) => a - b)[Math.floor(RESYNCS / 2)] ?? NaN,
        listingsPerAgent,
        accountCallsPer100Secrets,
        targets: {
          'one listing per agent': listingsPerAgent === 1,
          '0 writes': resync.writes === 0,
          '0 value reads': resync.valueReads === 0,
          '≤ 1 account SM call per 100 secrets': accountCallsPer100Secrets <= 1,
        },
      };
    } finally {
      await stack.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** An agent with nothing to do costs at most this much local wall time (issue 12, part 4). */
const IDLE_AGENT_TARGET_MS = 5;

/**
 * Agents with nothing to do: `agents` secret-enabled accounts whose services hold no secret in Keywhiz, reconciled
 * RESYNCS times once every SVID is issued. Each agent still reads its SVID, shows it to Keywhiz over mTLS, lists,
 * and lists its account's store.
 */
const runIdleAgents = async (agents: number): Promise<IdleAgentsFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-sync-bench-'));
  try {
    const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, agents, {
      firstAccountId: 500_000_000_000,
      secretEnabled: () => true,
    });
    const keywhizDir = join(dir, 'keywhiz');
    for (const { service } of enrollments) mkdirSync(join(keywhizDir, service), { recursive: true });
    const stack = await createLocalStack({ dataDir: join(dir, 'data'), enrollmentsPath, keywhizDir });
    try {
      const rotation = await stack.rotate();
      if (rotation.status !== 'SUCCEEDED') throw new Error(`rotation ${rotation.status}: ${rotation.error}`);
      await stack.sync();
      const msPerAgent: number[] = [];
      for (let i = 0; i < RESYNCS; i++) {
        const started = performance.now();
        const run = await stack.sync();
        if (run.status !== 'SUCCEEDED') throw new Error(`sync ${run.status}: ${run.error}`);
        msPerAgent.push(Math.round(((performance.now() - started) / agents) * 100) / 100);
      }
      const median = [...msPerAgent].sort((a, b) => a - b)[Math.floor(RESYNCS / 2)] ?? NaN;
      return {
        scenario: 'idle',
        agents,
        msPerAgent,
        medianMsPerAgent: median,
        peakRssMb: peakRssMb(),
        targets: {
          [`≤ ${IDLE_AGENT_TARGET_MS} ms per agent with nothing to do`]: median <= IDLE_AGENT_TARGET_MS,
        },
      };
    } finally {
      await stack.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** `npm start` on this many accounts takes at most this long end to end (issue 12, part 5). */
const START_TARGET_SECONDS = 45;
/** Every this many accounts one is secret-enabled, as the fleets `npm start` is measured on. */
const SECRET_ENABLED_EVERY = 3;
const BIN = fileURLToPath(new URL('../bin/trust-bridge.js', import.meta.url));

/**
 * `npm start` on a fresh data directory: `accounts` enrollments, every third secret-enabled, with an empty
 * Keywhiz (each service's folder, no secret). The real command runs in a process of its own, as `npm start`
 * runs it; the rotation and the sync are timed from their execution records.
 */
const runStart = async (accounts: number): Promise<StartFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-start-bench-'));
  try {
    const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, accounts, {
      firstAccountId: 300_000_000_000,
      secretEnabled: (i) => i % SECRET_ENABLED_EVERY === 0,
    });
    const keywhizDir = join(dir, 'keywhiz');
    for (const e of enrollments) if (e.secrets) mkdirSync(join(keywhizDir, e.service), { recursive: true });
    const dataDir = join(dir, 'data');
    const started = performance.now();
    const child = spawnSync(
      process.execPath,
      [
        BIN,
        'start',
        '--once',
        '--data-dir',
        dataDir,
        '--enrollments',
        enrollmentsPath,
        '--keywhiz-dir',
        keywhizDir,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    );
    const totalSeconds = (performance.now() - started) / 1000;
    if (child.status !== 0) console.error(child.stderr);
    const records = await readLocalStack(dataDir).executions(() => undefined);
    const run = (machine: string) => {
      const record = records.find((r) => r.stateMachineName === machine && !r.parentExecutionArn);
      const stopped = record && 'stopDate' in record ? Date.parse(record.stopDate) : NaN;
      return {
        status: record?.status ?? 'NOT RUN',
        seconds: record ? (stopped - Date.parse(record.startDate)) / 1000 : NaN,
      };
    };
    const [rotation, sync] = [run(ROTATE_SVIDS), run(SYNC_SECRETS)];
    const tenths = (seconds: number) => Math.round(seconds * 10) / 10;
    return {
      scenario: 'start',
      accounts,
      secretEnabled: enrollments.filter((e) => e.secrets).length,
      exitCode: child.status,
      totalSeconds: tenths(totalSeconds),
      rotationSeconds: tenths(rotation.seconds),
      syncSeconds: tenths(sync.seconds),
      rotationStatus: rotation.status,
      syncStatus: sync.status,
      targets: {
        [`≤ ${START_TARGET_SECONDS} s end to end, both runs SUCCEEDED`]:
          child.status === 0 && totalSeconds <= START_TARGET_SECONDS,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Reads the synced secret's current value until it is `expected`, every millisecond or so. */
const waitForValue = async (store: LocalServices['secretsManager'], secretId: string, expected: string) => {
  const deadline = performance.now() + WEBHOOK_WAIT_LIMIT_MS;
  for (;;) {
    const { SecretString } = await store.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === expected) return;
    if (performance.now() > deadline)
      throw new Error(`the new value did not arrive within ${WEBHOOK_WAIT_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/**
 * Webhook to secret over the samples: each notification edits one secret file, POSTs a signed delivery to
 * the receiver and times until the account's local store holds the new value.
 */
const runWebhook = async (notifications: number): Promise<WebhookFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-webhook-bench-'));
  const samples = fileURLToPath(new URL('../samples/', import.meta.url));
  const keywhizDir = join(dir, 'keywhiz');
  cpSync(join(samples, 'keywhiz'), keywhizDir, { recursive: true });
  const runs: ExecutionRecord[] = [];
  const stack = await createLocalStack({
    dataDir: join(dir, 'data'),
    enrollmentsPath: join(samples, 'enrollments.yaml'),
    keywhizDir,
    onExecutionRecorded: (record) => {
      if (record.stateMachineName === SYNC_SECRETS) runs.push(record);
    },
  });
  const server = await stack.serveWebhooks(0);
  try {
    const rotation = await stack.rotate();
    if (rotation.status !== 'SUCCEEDED') throw new Error(`rotation ${rotation.status}: ${rotation.error}`);
    const firstSync = await stack.sync();
    if (firstSync.status !== 'SUCCEEDED')
      throw new Error(`first sync ${firstSync.status}: ${firstSync.error}`);
    const [key] = await stack.deps.webhookKeys.keys();
    if (!key) throw new Error('the local stack has no webhook signing key');
    const store = stack.services.accountSecretsManager(WEBHOOK_ACCOUNT);
    const secretId = syncedSecretName(
      syncedSecretPrefix(stack.config.SYNC_SECRET_PREFIX, ENVIRONMENT, WEBHOOK_SERVICE),
      WEBHOOK_SECRET,
    );
    const latencies: number[] = [];
    for (let i = 0; i < WEBHOOK_WARMUP + notifications; i++) {
      // Benchmark content, not a real secret: unique per notification so its arrival is unambiguous.
      const value = `bench value ${i} ${Date.now()}`;
      writeFileSync(join(keywhizDir, WEBHOOK_SERVICE, WEBHOOK_SECRET), value);
      const body = JSON.stringify({
        deliveryId: `bench-${process.pid}-${i}`,
        event: 'secret.updated',
        secret: WEBHOOK_SECRET,
        services: [WEBHOOK_SERVICE],
      });
      const started = performance.now();
      const response = await fetch(server.url, {
        method: 'POST',
        headers: signedWebhookHeaders(key, body, new Date()),
        body,
      });
      if (response.status !== 202)
        throw new Error(`the receiver answered ${response.status}: ${await response.text()}`);
      await waitForValue(store, secretId, value);
      if (i >= WEBHOOK_WARMUP) latencies.push(performance.now() - started);
    }
    await stack.settled();
    latencies.sort((a, b) => a - b);
    const ms = (value: number) => Math.round(value * 10) / 10;
    const p99Ms = ms(percentile(latencies, 99));
    return {
      scenario: 'webhook',
      notifications,
      warmup: WEBHOOK_WARMUP,
      p50Ms: ms(percentile(latencies, 50)),
      p90Ms: ms(percentile(latencies, 90)),
      p99Ms,
      maxMs: ms(latencies.at(-1) ?? NaN),
      // Each delivery starts one run; a failed one would make its latency meaningless.
      failedRuns: runs.filter((r) => !r.parentExecutionArn && r.status !== 'SUCCEEDED').length,
      peakRssMb: peakRssMb(),
      targets: { [`p99 ≤ ${WEBHOOK_P99_TARGET_MS} ms`]: p99Ms <= WEBHOOK_P99_TARGET_MS },
    };
  } finally {
    await server.close();
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const calls = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ') || '0';

const targetLines = (targets: Record<string, boolean>) =>
  Object.entries(targets).map(([target, met]) => `- ${target}: ${met ? 'met' : 'NOT MET'}`);

const reconcileReport = (figures: ReconcileFigures[]): string => {
  const rows = figures.flatMap((f) =>
    (
      [
        ['first sync', f.firstSync, String(f.firstSync.seconds)],
        [
          'unchanged resync (measured)',
          f.resync,
          `${f.resyncMedianSeconds} (median of ${f.resyncSeconds.join(', ')})`,
        ],
      ] as const
    ).map(([label, run, seconds]) => [
      `${f.secrets.toLocaleString('en')} secrets / ${f.accounts} accounts, ${label}`,
      f.accountConcurrency,
      run.status,
      seconds,
      f.peakRssMb,
      `${run.synced} / ${run.unchanged} / ${run.failed}`,
      `${run.keywhiz.list} / ${run.keywhiz.batch} / ${run.keywhiz.single}`,
      calls(run.accountCalls),
      ((sum(run.accountCalls) / f.secrets) * 100).toFixed(2),
      calls(run.centralCalls),
      run.writes,
      run.valueReads,
      run.stateTransitions,
    ]),
  );
  const best = figures.reduce((a, b) => (b.resyncMedianSeconds < a.resyncMedianSeconds ? b : a));
  return [
    markdownTable(
      [
        'run',
        'account concurrency',
        'status',
        'wall s',
        'peak RSS MB',
        'synced / unchanged / failed',
        'Keywhiz list / batch / single',
        'account SM calls',
        'account SM calls /100 secrets',
        'central SM calls (SVID reads)',
        'writes',
        'value reads',
        'transitions',
      ],
      rows,
    ),
    '',
    `Targets, on the unchanged resync at account concurrency ${best.accountConcurrency} (the fastest median): ${best.listingsPerAgent} listing(s) per agent; the central SVID reads (one per agent) are counted apart from the account stores' calls per 100 secrets.`,
    ...targetLines(best.targets),
  ].join('\n');
};

const webhookReport = (f: WebhookFigures): string =>
  [
    markdownTable(
      ['run', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'failed runs', 'peak RSS MB'],
      [
        [
          `webhook to local store, ${f.notifications} notifications (+${f.warmup} warm-up)`,
          f.p50Ms,
          f.p90Ms,
          f.p99Ms,
          f.maxMs,
          f.failedRuns,
          f.peakRssMb,
        ],
      ],
    ),
    '',
    ...targetLines(f.targets),
  ].join('\n');

const startReport = (f: StartFigures): string =>
  [
    markdownTable(
      ['run', 'exit code', 'rotation s', 'sync s', 'end to end s'],
      [
        [
          `npm start (start --once), ${f.accounts.toLocaleString('en')} accounts, ${f.secretEnabled.toLocaleString('en')} secret-enabled, empty Keywhiz`,
          f.exitCode ?? 'killed',
          `${f.rotationSeconds} (${f.rotationStatus})`,
          `${f.syncSeconds} (${f.syncStatus})`,
          f.totalSeconds,
        ],
      ],
    ),
    '',
    ...targetLines(f.targets),
  ].join('\n');

const idleReport = (f: IdleAgentsFigures): string =>
  [
    markdownTable(
      ['run', 'ms per agent (median)', 'each resync', 'peak RSS MB'],
      [
        [
          `${f.agents.toLocaleString('en')} agents with nothing to do, unchanged reconcile`,
          f.medianMsPerAgent,
          f.msPerAgent.join(', '),
          f.peakRssMb,
        ],
      ],
    ),
    '',
    ...targetLines(f.targets),
  ].join('\n');

/**
 * The sync benchmark: a full reconcile of 10,000 unchanged secrets across 100 accounts (once per
 * `--concurrency`), `--idle-agents` agents with nothing to do, and webhook-to-store latency over
 * `--notifications` deliveries. `--start N` instead runs only `npm start` on N fresh accounts, a third of them
 * secret-enabled. Each scenario runs in a child process of its own; `--scenario reconcile:N`, `idle:N`,
 * `webhook:N` or `start:N` is that child, printing one JSON line.
 * `--json` adds one JSON line with every figure after the tables.
 */
export const syncBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      concurrency: { type: 'string', multiple: true },
      notifications: { type: 'string', default: '200' },
      'idle-agents': { type: 'string', default: '1000' },
      start: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.scenario) {
    const [name, size] = values.scenario.split(':');
    const runs = { reconcile: runReconcile, idle: runIdleAgents, webhook: runWebhook, start: runStart };
    const run = runs[name as keyof typeof runs];
    if (!run) {
      console.error(`unknown scenario '${values.scenario}' (reconcile:N, idle:N, webhook:N or start:N)`);
      return 2;
    }
    console.log(JSON.stringify(await run(Number(size))));
    return 0;
  }
  if (values.start !== undefined) {
    const accounts = Number(values.start);
    if (!Number.isInteger(accounts) || accounts < 1) {
      console.error('--start takes a positive whole number');
      return 2;
    }
    console.error(`npm start on ${accounts} accounts...`);
    const start = runScenarioInChild<StartFigures>(['--scenario', `start:${accounts}`]);
    if (!start) return 1;
    console.log(startReport(start));
    if (values.json) console.log(JSON.stringify({ start }));
    return 0;
  }
  // 5, 10, 20 and 40 measured within noise of each other on 2 cores (40 costs ~100 MB more RSS): the default 10.
  const concurrencies = (values.concurrency ?? ['10']).map(Number);
  const notifications = Number(values.notifications);
  const idleAgents = Number(values['idle-agents']);
  if ([...concurrencies, notifications, idleAgents].some((n) => !Number.isInteger(n) || n < 1)) {
    console.error('--concurrency, --notifications and --idle-agents take positive whole numbers');
    return 2;
  }
  const reconcile: ReconcileFigures[] = [];
  for (const concurrency of concurrencies) {
    console.error(
      `reconciling ${ACCOUNTS * SECRETS_PER_SERVICE} secrets at account concurrency ${concurrency}...`,
    );
    const figures = runScenarioInChild<ReconcileFigures>(['--scenario', `reconcile:${concurrency}`]);
    if (!figures) return 1;
    reconcile.push(figures);
  }
  console.error(`reconciling ${idleAgents} agents with nothing to do...`);
  const idle = runScenarioInChild<IdleAgentsFigures>(['--scenario', `idle:${idleAgents}`]);
  if (!idle) return 1;
  console.error(`sending ${notifications} webhook notifications...`);
  const webhook = runScenarioInChild<WebhookFigures>(['--scenario', `webhook:${notifications}`]);
  if (!webhook) return 1;
  console.log(reconcileReport(reconcile));
  console.log('');
  console.log(idleReport(idle));
  console.log('');
  console.log(webhookReport(webhook));
  if (values.json) console.log(JSON.stringify({ reconcile, idle, webhook }));
  return 0;
};
