/**
 * `bench aws`: the quota-true simulation. The real state machines, with their real Retry settings and the
 * concurrency parameters serverless.yml deploys, run on the local engine against the embedded default's stand-ins
 * made to behave as AWS does in time: every API call takes its typical latency and a token from AWS's default
 * quota (bench/aws/quotas.ts), a throttle is retried as the function's SDK client retries it, and each step runs as
 * a Lambda function with cold starts, a concurrency quota and billed GB-seconds. Time is a virtual clock.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dependencies } from '../../functions/shared/dependencies';
import { AcmPcaAuthority } from '../../functions/shared/ports/certificate-authority/acm-pca-authority';
import type { CertificateAuthority } from '../../functions/shared/ports/certificate-authority/certificate-authority';
import { createLocalStack } from '../../local-stack/stack';
import { seededRandom } from '../fault-injection';
import { markdownTable, peakRssMb, runScenarioInChild } from '../rotation-bench';
import { deployedParameters } from './deployed-stack';
import { API_QUOTAS, LAMBDA_QUOTAS, PCA_ISSUANCE_SOURCE, quotaOf } from './quotas';
import { type ApiCounts, SimulatedApis } from './simulated-apis';
import { type LambdaTotals, SimulatedLambda } from './simulated-lambda';
import { simulatedKeywhiz } from './simulated-keywhiz';
import { VirtualClock } from './virtual-clock';
import { writeFleetEnrollments } from '../fleet';

export type Phase = 'rotation' | 'first sync' | 'unchanged sync';

export interface SimulationFigures {
  phase: Phase;
  accounts: number;
  /** Keywhiz secrets per account (sync phases). */
  secretsPerAccount: number;
  status: string;
  failedAccounts: number;
  simulatedSeconds: number;
  /** The least time AWS's quotas allow (a rotation: issuanceFloorSeconds), or the schedule it must fit (a sync). */
  boundSeconds: number;
  apis: Record<string, ApiCounts>;
  keywhiz: { lists: number; fetches: number };
  lambda: LambdaTotals;
  stateTransitions: number;
  executions: number;
  wallSeconds: number;
  peakRssMb: number;
}

/**
 * The least time AWS's quotas allow a rotation: every due account needs one IssueCertificate, and ACM PCA serves
 * them at its quota's rate once its burst is spent.
 */
const issuanceFloorSeconds = (accounts: number): number => {
  const quota = quotaOf('ACM PCA', 'IssueCertificate');
  if (!quota) throw new Error('no IssueCertificate quota');
  return Math.max(0, accounts - quota.burst) / quota.perSecond;
};

/** The full sync's schedule (serverless.yml syncSchedule, rate(1 hour)): a reconcile must end inside it. */
const SYNC_SCHEDULE_SECONDS = 3_600;

/**
 * A fleet of `accounts` services, one per account (secret-enabled when `secretsPerAccount` > 0), on the local stack
 * made to answer as AWS in simulated time; runs the phases in order and gives each one's figures.
 */
export const simulate = async (
  accounts: number,
  secretsPerAccount: number,
  seed: number,
  phases: Phase[],
  /** Variables over serverless.yml's parameters, e.g. another ISSUANCE_RATE. */
  env: Record<string, string> = {},
): Promise<SimulationFigures[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-aws-'));
  try {
    const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, accounts, {
      firstAccountId: 400_000_000_000,
      secretEnabled: () => secretsPerAccount > 0,
      readerRoles: ['app'],
    });
    const keywhizDir = join(dir, 'keywhiz');
    mkdirSync(keywhizDir);
    const lambda = new SimulatedLambda();
    const apis = new SimulatedApis(lambda);
    const keywhiz = { lists: 0, fetches: 0 };
    // The adapter as deployed (1 s before each GetCertificate, 10 s at most), built once the stand-in exists.
    let authority: CertificateAuthority | undefined;
    const deployedAuthority: CertificateAuthority = {
      issue: (request) => authority!.issue(request),
      bundle: () => authority!.bundle(),
    };
    const stack = await createLocalStack({
      dataDir: join(dir, 'data'),
      enrollmentsPath,
      keywhizDir,
      env: { ...deployedParameters(), ...env },
      realDelays: true,
      runStep: lambda.runStep,
      decorate: (deps: Dependencies) => ({
        ...deps,
        authority: deployedAuthority,
        secretSource: simulatedKeywhiz(secretsPerAccount, keywhiz),
      }),
    });
    try {
      authority = new AcmPcaAuthority(stack.services.pca, { caArn: stack.config.CA_ARN });
      apis.wrap('ACM PCA', 'central', stack.services.pca);
      apis.wrap('Secrets Manager', 'central', stack.services.secretsManager);
      apis.wrap('EventBridge', 'central', stack.services.eventBus);
      // Only a secret-enabled account's agent uses its own store (opening one creates its directory).
      for (const { accountId } of secretsPerAccount > 0 ? enrollments : []) {
        apis.wrap('Secrets Manager', accountId, stack.services.accountSecretsManager(accountId));
      }
      // The SDK's jitter and Step Functions' FULL jitter draw from Math.random: seeded, a run repeats.
      Math.random = seededRandom(seed);
      const clock = VirtualClock.install();
      const figures: SimulationFigures[] = [];
      try {
        let lastSyncMs: number | undefined;
        for (const phase of phases) {
          if (phase === 'unchanged sync' && lastSyncMs !== undefined) {
            // The next full sync is the schedule's next one, an hour on: idle containers are reclaimed by then.
            const wait = lastSyncMs + SYNC_SCHEDULE_SECONDS * 1000 - clock.elapsedMs;
            await clock.run(new Promise((resolve) => setTimeout(resolve, Math.max(0, wait))));
          }
          if (phase !== 'rotation') lastSyncMs = clock.elapsedMs;
          const started = { wall: performance.now(), simulated: clock.elapsedMs, ...stack.engine.totals() };
          apis.counts.clear();
          lambda.reset();
          Object.assign(keywhiz, { lists: 0, fetches: 0 });
          const record = await clock.run(phase === 'rotation' ? stack.rotate() : stack.sync());
          const output = (record.output ?? {}) as { failed?: number };
          const totals = stack.engine.totals();
          figures.push({
            phase,
            accounts,
            secretsPerAccount,
            status: record.status,
            failedAccounts:
              record.status === 'SUCCEEDED' ? 0 : (output.failed ?? replayCount(record.cause) ?? accounts),
            simulatedSeconds: (clock.elapsedMs - started.simulated) / 1000,
            boundSeconds: phase === 'rotation' ? issuanceFloorSeconds(accounts) : SYNC_SCHEDULE_SECONDS,
            apis: Object.fromEntries(apis.counts),
            keywhiz: { ...keywhiz },
            lambda: structuredClone(lambda.totals),
            stateTransitions: totals.stateTransitions - started.stateTransitions,
            executions: totals.executions - started.executions,
            wallSeconds: (performance.now() - started.wall) / 1000,
            peakRssMb: peakRssMb(),
          });
        }
      } finally {
        clock.uninstall();
      }
      return figures;
    } finally {
      await stack.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** The number of accounts a failed run's cause names for replay. */
const replayCount = (cause: string | undefined): number | undefined => {
  try {
    const parsed = JSON.parse(cause ?? '') as { accounts?: unknown[] };
    return parsed.accounts?.length;
  } catch {
    return undefined;
  }
};

const sum = (apis: Record<string, ApiCounts>, service: string) =>
  Object.entries(apis)
    .filter(([key]) => key.startsWith(service))
    .reduce(
      (total, [, c]) => ({
        calls: total.calls + c.calls,
        throttled: total.throttled + c.throttled,
        retries: total.retries + c.retries,
      }),
      { calls: 0, throttled: 0, retries: 0 },
    );

const percent = (part: number, whole: number) =>
  whole === 0 ? '0.0 %' : `${((100 * part) / whole).toFixed(1)} %`;

const report = (figures: SimulationFigures[]): string => {
  const rows = figures.map((f) => {
    const ca = sum(f.apis, 'ACM PCA');
    const sm = sum(f.apis, 'Secrets Manager');
    const stepRetries = Object.values(f.lambda.failures).reduce((a, b) => a + b, 0);
    return [
      `${f.accounts.toLocaleString('en')} ${f.phase}${f.phase === 'rotation' ? '' : ` (${f.secretsPerAccount} secrets each)`}`,
      f.status,
      f.failedAccounts,
      f.simulatedSeconds.toFixed(0),
      `${f.boundSeconds.toFixed(0)} ${f.phase === 'rotation' ? '(floor)' : '(schedule)'}`,
      f.boundSeconds > 0 ? (f.simulatedSeconds / f.boundSeconds).toFixed(2) : '-',
      `${ca.throttled} of ${ca.calls} (${percent(ca.throttled, ca.calls)})`,
      `${sm.throttled} of ${sm.calls}`,
      `${ca.retries + sm.retries} / ${stepRetries}`,
      (f.stateTransitions / f.accounts).toFixed(2),
      (f.lambda.gbSeconds / f.accounts).toFixed(3),
      `${f.lambda.coldStarts} / ${f.lambda.peakConcurrency}`,
      f.wallSeconds.toFixed(1),
      f.peakRssMb,
    ];
  });
  return markdownTable(
    [
      'run',
      'status',
      'failed accounts',
      'simulated s',
      'bound s',
      '× bound',
      'CA calls throttled',
      'SM calls throttled',
      'SDK retries / failed step attempts',
      'transitions /acct',
      'Lambda GB-s /acct',
      'cold starts / peak concurrency',
      'wall s',
      'peak RSS MB',
    ],
    rows,
  );
};

const quotaTable = (): string =>
  markdownTable(
    ['service', 'operations', 'quota (per s)', 'burst', 'latency ms', 'source'],
    [
      ...API_QUOTAS.map((q) => [
        q.service,
        q.operations.join(', '),
        q.perSecond,
        q.burst,
        q.latencyMs,
        q.source,
      ]),
      [
        'Lambda',
        'concurrent executions',
        LAMBDA_QUOTAS.concurrency,
        '-',
        LAMBDA_QUOTAS.invokeLatencyMs,
        `${LAMBDA_QUOTAS.concurrencySource}; cold start: ${LAMBDA_QUOTAS.coldStartSource}; invoke latency assumed`,
      ],
      ['ACM PCA', 'issuance (IssueCertificate → GetCertificate ready)', '-', '-', 1000, PCA_ISSUANCE_SOURCE],
    ],
  );

const USAGE = `usage: node --import tsx bench/main.ts aws [--accounts N ...] [--secrets-per-account M] [--seed S] [--json]
       node --import tsx bench/main.ts aws --quotas

  The quota-true simulation, on the real state machines against AWS's default quotas and typical latencies, in
  simulated time: for each --accounts size (default 1,000 and 10,000), a rotation, then (unless
  --secrets-per-account 0) the first full sync of M Keywhiz secrets per account (default 10) and an unchanged
  one an hour later, the hourly steady state. A rotation's bound is its floor (the due accounts at ACM PCA's IssueCertificate
  quota), a sync's its hourly schedule. --quotas prints the quotas and latencies it assumes, with their sources;
  --write FILE writes each step's mean billed duration, what \`trust-bridge cost\` prices Lambda compute at.`;

export const awsBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string', multiple: true },
      seed: { type: 'string', default: '1' },
      'secrets-per-account': { type: 'string', default: '10' },
      write: { type: 'string' },
      scenario: { type: 'string' },
      json: { type: 'boolean', default: false },
      quotas: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.quotas) {
    console.log(quotaTable());
    return 0;
  }
  const seed = Number(values.seed);
  const secretsPerAccount = Number(values['secrets-per-account']);
  const phases: Phase[] = secretsPerAccount > 0 ? ['rotation', 'first sync', 'unchanged sync'] : ['rotation'];
  if (values.scenario) {
    console.log(JSON.stringify(await simulate(Number(values.scenario), secretsPerAccount, seed, phases)));
    return 0;
  }
  const sizes = (values.accounts ?? ['1000', '10000']).map(Number);
  const figures: SimulationFigures[] = [];
  for (const accounts of sizes) {
    const result = runScenarioInChild<SimulationFigures[]>(['--scenario', String(accounts)]);
    if (!result) {
      console.error(`bench aws: the ${accounts}-account simulation failed`);
      return 1;
    }
    figures.push(...result);
  }
  console.log(values.json ? JSON.stringify(figures, null, 2) : report(figures));
  if (values.write) {
    writeFileSync(values.write, `${JSON.stringify(billedDurations(figures, process.argv), null, 2)}\n`);
  }
  return 0;
};

/**
 * What `trust-bridge cost` prices a Lambda invocation at: each step's mean billed duration (INIT included) in the
 * largest fleet's rotation and its hourly, unchanged sync, which are what a month is made of.
 */
const billedDurations = (figures: SimulationFigures[], argv: string[]) => {
  const largest = Math.max(...figures.map((f) => f.accounts));
  const steps: Record<string, { invocations: number; billedMs: number }> = {};
  for (const f of figures.filter((x) => x.accounts === largest && x.phase !== 'first sync')) {
    for (const [step, t] of Object.entries(f.lambda.steps)) {
      const sum = (steps[step] ??= { invocations: 0, billedMs: 0 });
      sum.invocations += t.invocations;
      sum.billedMs += t.billedMs;
    }
  }
  return {
    measuredWith: `node --import tsx ${[relative(process.cwd(), argv[1] ?? ''), ...argv.slice(2)].join(' ')}`,
    accounts: largest,
    meanBilledMs: Object.fromEntries(
      Object.entries(steps)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([step, t]) => [step, Math.round(t.billedMs / t.invocations)]),
    ),
  };
};
