import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalStack, DEFAULT_FUNCTION_CONTAINERS, type LocalStack } from '../local-stack/stack';
import { probeAcmPca } from './acm-pca-probe';
import { probeSecretsManager } from './secrets-manager-probe';
import { writeFleetEnrollments } from './fleet';

interface RunFigures {
  status: string;
  seconds: number;
  caIssueCalls: number;
  caGetCertificateCalls: number;
  secretsManagerCalls: number;
  secretWrites: number;
  putEventsCalls: number;
  stateTransitions: number;
  executions: number;
  maxHistoryEvents: number;
}

interface ScenarioFigures {
  accounts: number;
  /** Function containers the per-account steps ran in; with any, the CA and Secrets Manager calls are theirs. */
  containers: number;
  peakRssMb: number;
  rotation: RunFigures;
  rerun: RunFigures;
}

/** The Secrets Manager operations that write a secret's value. */
export const WRITE_OPERATIONS = ['CreateSecret', 'PutSecretValue'];

/** This process's peak resident set so far, in MB. */
export const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/** A Markdown table, as the README shows the figures. */
export const markdownTable = (headers: string[], rows: (string | number)[][]): string =>
  [headers, headers.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');

/**
 * Runs one scenario in a child process of its own, so its peak RSS is its own: the same command line as
 * this process (node flags such as --cpu-prof included) plus `scenarioArgs`. The child prints its figures
 * as the last line of its output, in JSON; undefined (with the child's errors shown) when it failed.
 */
export const runScenarioInChild = <T>(scenarioArgs: string[]): T | undefined => {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, ...process.argv.slice(1), ...scenarioArgs],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.status !== 0) {
    console.error(child.stderr);
    return undefined;
  }
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as T;
};

/**
 * Rotates `accounts` fresh accounts, then reruns inside the renewal window, counting every call: in `containers`
 * function containers, as the CLI runs them, or with none (every step in this thread) to count the CA's and
 * Secrets Manager's calls too.
 */
const runScenario = async (accounts: number, containers: number): Promise<ScenarioFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-bench-'));
  try {
    const { enrollmentsPath } = writeFleetEnrollments(dir, accounts, {
      firstAccountId: 100_000_000_000,
      readerRoles: ['app'],
    });
    const stack = await createLocalStack({
      dataDir: join(dir, 'data'),
      enrollmentsPath,
      env: { ACCOUNT_CONCURRENCY: '40', CHUNK_CONCURRENCY: '4' },
      functionContainers: containers,
    });
    try {
      const rotation = await measure(stack);
      const rerun = await measure(stack);
      return { accounts, containers, peakRssMb: peakRssMb(), rotation, rerun };
    } finally {
      await stack.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const measure = async (stack: LocalStack): Promise<RunFigures> => {
  const before = snapshot(stack);
  const started = performance.now();
  const execution = await stack.rotate();
  const seconds = (performance.now() - started) / 1000;
  const after = snapshot(stack);
  const runs = stack.engine.listExecutions().slice(before.executions);
  return {
    status: execution.status,
    seconds: Math.round(seconds * 10) / 10,
    caIssueCalls: after.issue - before.issue,
    caGetCertificateCalls: after.getCertificate - before.getCertificate,
    secretsManagerCalls: after.sm - before.sm,
    secretWrites: after.writes - before.writes,
    putEventsCalls: after.putEvents - before.putEvents,
    stateTransitions: runs.reduce((n, r) => n + r.stateTransitions, 0),
    executions: runs.length,
    maxHistoryEvents: Math.max(...runs.map((r) => r.historyEventCount)),
  };
};

const snapshot = (stack: LocalStack) => {
  const sm = probeSecretsManager(stack.services.secretsManager).calls;
  const pca = probeAcmPca(stack.services.pca).calls;
  return {
    issue: pca.IssueCertificate,
    getCertificate: pca.GetCertificate,
    sm: Object.values(sm).reduce((a, b) => a + b, 0),
    writes: WRITE_OPERATIONS.reduce((n, op) => n + (sm[op] ?? 0), 0),
    putEvents: stack.services.eventBus.putEventsCalls,
    executions: stack.engine.listExecutions().length,
  };
};

const perAccount = (value: number, accounts: number) => (value / accounts).toFixed(3);

const report = (figures: ScenarioFigures[]): string => {
  const inContainers = figures.some((f) => f.containers > 0);
  const table = markdownTable(
    [
      'run',
      'status',
      'wall s',
      'peak RSS MB',
      'CA issue /acct',
      'CA get /acct',
      'SM calls /acct',
      'SM writes /acct',
      'PutEvents /acct',
      'transitions /acct',
      'executions',
      'max history events',
    ],
    figures.flatMap(({ accounts, containers, peakRssMb, rotation, rerun }) =>
      (
        [
          ['rotation', rotation],
          ['rerun in window', rerun],
        ] as const
      ).map(([label, run]) => [
        `${accounts.toLocaleString('en')} ${label}`,
        run.status,
        run.seconds,
        peakRssMb,
        ...[run.caIssueCalls, run.caGetCertificateCalls, run.secretsManagerCalls, run.secretWrites].map(
          (n) => (containers > 0 ? '-' : perAccount(n, accounts)),
        ),
        perAccount(run.putEventsCalls, accounts),
        perAccount(run.stateTransitions, accounts),
        run.executions,
        run.maxHistoryEvents,
      ]),
    ),
  );
  if (!inContainers) return table;
  return `${table}\n\n(-: counted by the function containers' own stand-ins; \`--containers 0\` counts them here)`;
};

/**
 * `bench` (rotation): each scenario runs in a child process of its own, so its peak RSS is its own.
 * `--scenario N` is that child: it prints one JSON line of figures. `--containers N`: the function containers
 * (default: as many as the CLI runs; 0 to count the CA's and Secrets Manager's calls).
 */
export const benchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      accounts: { type: 'string', multiple: true },
      containers: { type: 'string', default: String(DEFAULT_FUNCTION_CONTAINERS) },
    },
  });
  const containers = Number(values.containers);
  if (!Number.isInteger(containers) || containers < 0) {
    console.error('--containers takes a whole number, 0 for none');
    return 2;
  }
  if (values.scenario) {
    console.log(JSON.stringify(await runScenario(Number(values.scenario), containers)));
    return 0;
  }
  const sizes = (values.accounts ?? ['1000', '10000']).map(Number);
  const figures: ScenarioFigures[] = [];
  for (const size of sizes) {
    console.error(`rotating ${size} accounts...`);
    const scenario = runScenarioInChild<ScenarioFigures>(['--scenario', String(size)]);
    if (!scenario) return 1;
    figures.push(scenario);
  }
  console.log(report(figures));
  return 0;
};
