/**
 * `bench aws`: the quota-true simulation. The real state machines, with their real Retry settings and the
 * concurrency parameters serverless.yml deploys, run on the local engine against the embedded default's stand-ins
 * made to behave as AWS does in time: every API call takes its typical latency and a token from AWS's default
 * quota (bench/aws/quotas.ts), a throttle is retried as the function's SDK client retries it, and each step runs as
 * a Lambda function with cold starts, a concurrency quota and billed GB-seconds. Time is a virtual clock.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { VirtualClock } from './virtual-clock';

export interface SimulationFigures {
  workflow: 'rotation';
  accounts: number;
  status: string;
  failedAccounts: number;
  simulatedSeconds: number;
  /** The least time AWS's quotas allow (issuanceFloorSeconds). */
  floorSeconds: number;
  apis: Record<string, ApiCounts>;
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

const simulateRotation = async (accounts: number, seed: number): Promise<SimulationFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-aws-'));
  const started = performance.now();
  try {
    const enrollmentsPath = join(dir, 'enrollments.json');
    const enrollments = Array.from({ length: accounts }, (_, i) => ({
      service: `service-${i}`,
      environment: 'prod',
      accountId: String(400_000_000_000 + i),
      identity: true,
      readerRoles: ['app'],
    }));
    writeFileSync(enrollmentsPath, JSON.stringify({ enrollments }));
    const keywhizDir = join(dir, 'keywhiz');
    mkdirSync(keywhizDir);
    const lambda = new SimulatedLambda();
    const apis = new SimulatedApis(lambda);
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
      env: deployedParameters(),
      realDelays: true,
      runStep: lambda.runStep,
      decorate: (deps: Dependencies) => ({ ...deps, authority: deployedAuthority }),
    });
    try {
      authority = new AcmPcaAuthority(stack.services.pca, { caArn: stack.config.CA_ARN });
      apis.wrap('ACM PCA', 'central', stack.services.pca);
      apis.wrap('Secrets Manager', 'central', stack.services.secretsManager);
      apis.wrap('EventBridge', 'central', stack.services.eventBus);
      // The SDK's jitter and Step Functions' FULL jitter draw from Math.random: seeded, a run repeats.
      Math.random = seededRandom(seed);
      const clock = VirtualClock.install();
      let record;
      try {
        record = await clock.run(stack.rotate());
      } finally {
        clock.uninstall();
      }
      const output = (record.output ?? {}) as { failed?: number };
      const failedAccounts =
        record.status === 'SUCCEEDED' ? 0 : (output.failed ?? replayCount(record.cause) ?? accounts);
      return {
        workflow: 'rotation',
        accounts,
        status: record.status,
        failedAccounts,
        simulatedSeconds: clock.elapsedMs / 1000,
        floorSeconds: issuanceFloorSeconds(accounts),
        apis: Object.fromEntries(apis.counts),
        lambda: lambda.totals,
        stateTransitions: stack.engine.totals().stateTransitions,
        executions: stack.engine.totals().executions,
        wallSeconds: (performance.now() - started) / 1000,
        peakRssMb: peakRssMb(),
      };
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
      `${f.accounts.toLocaleString('en')} ${f.workflow}`,
      f.status,
      f.failedAccounts,
      f.simulatedSeconds.toFixed(0),
      f.floorSeconds.toFixed(0),
      f.floorSeconds > 0 ? (f.simulatedSeconds / f.floorSeconds).toFixed(2) : '-',
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
      'floor s (IssueCertificate quota)',
      '× floor',
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

const USAGE = `usage: node --import tsx bench/main.ts aws [--accounts N ...] [--seed S] [--json] [--quotas]

  The quota-true simulation: a rotation of each --accounts size (default 1,000 and 10,000; 100,000 with
  --accounts 100000) on the real state machines against AWS's default quotas and typical latencies, in simulated
  time. --quotas prints the table of quotas and latencies it assumes, with their sources.`;

export const awsBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string', multiple: true },
      seed: { type: 'string', default: '1' },
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
  if (values.scenario) {
    const figures = await simulateRotation(Number(values.scenario), seed);
    console.log(JSON.stringify(figures));
    return 0;
  }
  const sizes = (values.accounts ?? ['1000', '10000']).map(Number);
  const figures: SimulationFigures[] = [];
  for (const accounts of sizes) {
    const result = runScenarioInChild<SimulationFigures>([
      '--scenario',
      String(accounts),
      '--seed',
      String(seed),
    ]);
    if (!result) {
      console.error(`bench aws: the ${accounts}-account simulation failed`);
      return 1;
    }
    figures.push(result);
  }
  console.log(values.json ? JSON.stringify(figures, null, 2) : report(figures));
  return 0;
};
