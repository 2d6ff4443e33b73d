import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { ExecutionRecord } from '../engine';
import { syncedSecretName, syncedSecretPrefix } from '../functions/shared/domain/synced-secret-name';
import type { SyncSummary } from '../functions/shared/domain/sync';
import { signedWebhookHeaders } from '../functions/shared/domain/webhook';
import { createLocalStack, DEFAULT_WEBHOOK_SYNC_CONCURRENCY, SYNC_SECRETS } from '../local-stack/stack';
import { seededRandom } from './fault-injection';
import { markdownTable, peakRssMb, runScenarioInChild } from './rotation-bench';
import { percentile } from './sync-bench';

export const BURST_USAGE = `bench burst [options]
  A burst of signed webhook deliveries against the local receiver (start --serve's receiver, in a process of
  its own): each edits one Keywhiz secret, then POSTs its change; prints failed syncs, delivery-to-store
  latency and peak RSS against the targets (0 failed, every change in the store within 5 s, RSS < 400 MB).

  --seconds N      how long the burst lasts (default 60)
  --rate N         deliveries a second (default 20)
  --secrets N      secrets changed, spread over 10 services and accounts (default 50)
  --concurrency N  webhook syncs run at once (default ${DEFAULT_WEBHOOK_SYNC_CONCURRENCY}, the receiver's)
  --seed N         which secret each delivery changes (default 1)
  --json           also print every figure as one JSON line`;

const SERVICES = 10;
const ENVIRONMENT = 'prod';
const LATENCY_TARGET_MS = 5_000;
const RSS_TARGET_MB = 400;

interface BurstOptions {
  seconds: number;
  rate: number;
  secrets: number;
  concurrency: number;
  seed: number;
}

interface BurstFigures extends BurstOptions {
  deliveries: number;
  /** Answers by HTTP status. */
  answers: Record<string, number>;
  syncsStarted: number;
  coalesced: number;
  peakRunning: number;
  failedSyncs: number;
  /** State transitions of a sync execution, its chunk executions included: what Step Functions bills. */
  transitionsPerSync: number;
  /** Delivery sent to its change (or a later one of the same secret) in the account's store. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  overTargetMs: number;
  /** Secrets whose store does not hold their last content once every sync ended. */
  staleAtEnd: number;
  /** From the last delivery sent to the last sync ended. */
  drainSeconds: number;
  peakRssMb: number;
  targets: Record<string, boolean>;
}

const secretName = (j: number) => `secret-${j}`;
const serviceOf = (j: number) => `service-${j % SERVICES}`;
const accountOf = (j: number) => String(300_000_000_000 + (j % SERVICES));
/** Benchmark content, not a real secret: names the delivery that wrote it, so its arrival is unambiguous. */
const contentOf = (j: number, delivery: number | 'initial') => `burst ${secretName(j)} #${delivery}`;
const deliveryOf = (content: string | undefined) => Number(/#(\d+)$/.exec(content ?? '')?.[1] ?? -1);

const writeFleet = (dir: string, secrets: number) => {
  const enrollments = Array.from({ length: SERVICES }, (_, i) => ({
    service: serviceOf(i),
    environment: ENVIRONMENT,
    accountId: accountOf(i),
    identity: true,
    secrets: true,
  }));
  const enrollmentsPath = join(dir, 'enrollments.json');
  writeFileSync(enrollmentsPath, JSON.stringify({ enrollments }));
  const keywhizDir = join(dir, 'keywhiz');
  const pathOf = (j: number) => join(keywhizDir, serviceOf(j), secretName(j));
  for (const { service } of enrollments) mkdirSync(join(keywhizDir, service), { recursive: true });
  for (let j = 0; j < secrets; j++) writeFileSync(pathOf(j), contentOf(j, 'initial'));
  return { enrollmentsPath, keywhizDir, pathOf };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * The burst, in this process: the local stack and its receiver as `start --serve` runs them (real retry
 * delays), then `rate` deliveries a second, each sent on its schedule whether or not earlier ones were
 * answered. A change counts as landed when a sync of its secret ends with that content or a later one in
 * the store (the store is read as each sync ends, so the latency is an upper bound).
 */
const runBurst = async (o: BurstOptions): Promise<BurstFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-burst-bench-'));
  const { enrollmentsPath, keywhizDir, pathOf } = writeFleet(dir, o.secrets);
  const deliveries: { secret: number; sentAt: number; landedAt?: number }[] = [];
  const pending = Array.from({ length: o.secrets }, () => [] as number[]);
  const runs: ExecutionRecord[] = [];
  const reads: Promise<void>[] = [];
  let measuring = false;
  let transitions = 0;
  const stack = await createLocalStack({
    dataDir: join(dir, 'data'),
    enrollmentsPath,
    keywhizDir,
    realDelays: true,
    webhookSyncConcurrency: o.concurrency,
    logLevel: 'ERROR',
    onExecutionRecorded: (record) => {
      if (!measuring || !record.stateMachineName.startsWith(SYNC_SECRETS)) return;
      // Children (the chunk executions) count toward the transitions a sync costs on AWS.
      transitions += record.stateTransitions;
      if (record.parentExecutionArn) return;
      runs.push(record);
      // A sync names one secret, or (changes folded together) every secret of its services.
      const { secret, services } = record.input as { secret?: string; services?: string[] };
      for (let j = 0; j < o.secrets; j++) {
        const covered =
          secret === undefined ? !services || services.includes(serviceOf(j)) : secret === secretName(j);
        if (covered) reads.push(markLanded(j));
      }
    },
  });
  const storedContent = async (j: number) => {
    const prefix = syncedSecretPrefix(stack.config.SYNC_SECRET_PREFIX, ENVIRONMENT, serviceOf(j));
    const { SecretString } = await stack.services
      .accountSecretsManager(accountOf(j))
      .send(new GetSecretValueCommand({ SecretId: syncedSecretName(prefix, secretName(j)) }));
    return SecretString;
  };
  const markLanded = async (j: number) => {
    const stored = deliveryOf(await storedContent(j));
    const at = performance.now();
    const waiting = pending[j] ?? [];
    while (waiting.length > 0 && (waiting[0] ?? Infinity) <= stored) {
      const delivery = deliveries[waiting.shift() as number];
      if (delivery) delivery.landedAt = at;
    }
  };
  const server = await stack.serveWebhooks(0);
  try {
    const rotation = await stack.rotate();
    if (rotation.status !== 'SUCCEEDED') throw new Error(`rotation ${rotation.status}: ${rotation.error}`);
    const first = await stack.sync();
    if (first.status !== 'SUCCEEDED') throw new Error(`first sync ${first.status}: ${first.error}`);
    const [key] = await stack.deps.webhookKeys.keys();
    if (!key) throw new Error('the local stack has no webhook signing key');

    measuring = true;
    const random = seededRandom(o.seed);
    const answers: Record<string, number> = {};
    const posts: Promise<void>[] = [];
    const count = Math.round(o.seconds * o.rate);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await sleep(started + (i * 1000) / o.rate - performance.now());
      const j = Math.floor(random() * o.secrets);
      writeFileSync(pathOf(j), contentOf(j, i));
      const body = JSON.stringify({
        deliveryId: `burst-${process.pid}-${i}`,
        event: 'secret.updated',
        secret: secretName(j),
        services: [serviceOf(j)],
      });
      deliveries.push({ secret: j, sentAt: performance.now() });
      pending[j]?.push(i);
      posts.push(
        fetch(server.url, { method: 'POST', headers: signedWebhookHeaders(key, body, new Date()), body })
          .then(async (response) => {
            await response.arrayBuffer();
            return String(response.status);
          })
          .catch((error: unknown) => (error instanceof Error ? error.name : 'error'))
          .then((status) => {
            answers[status] = (answers[status] ?? 0) + 1;
          }),
      );
    }
    const lastSent = performance.now();
    await Promise.all(posts);
    await stack.settled();
    await Promise.all(reads);
    const drainSeconds = (performance.now() - lastSent) / 1000;

    let staleAtEnd = 0;
    for (let j = 0; j < o.secrets; j++) {
      const last = deliveries.findLastIndex((d) => d.secret === j);
      if (deliveryOf(await storedContent(j)) !== last && last >= 0) staleAtEnd += 1;
    }
    const latencies = deliveries
      .map((d) => (d.landedAt === undefined ? Infinity : d.landedAt - d.sentAt))
      .sort((a, b) => a - b);
    const ms = (value: number) => (Number.isFinite(value) ? Math.round(value) : -1);
    const failedSyncs = runs.filter(
      (r) => r.status !== 'SUCCEEDED' || ((r.output as Partial<SyncSummary> | null)?.failed ?? 0) > 0,
    ).length;
    const queue = stack.webhookSyncs();
    const maxMs = ms(latencies.at(-1) ?? NaN);
    const overTargetMs = latencies.filter((l) => !(l <= LATENCY_TARGET_MS)).length;
    const rss = peakRssMb();
    return {
      ...o,
      deliveries: count,
      answers,
      syncsStarted: queue.started,
      coalesced: queue.coalesced,
      peakRunning: queue.peakRunning,
      failedSyncs,
      transitionsPerSync: runs.length > 0 ? Math.round((transitions / runs.length) * 10) / 10 : 0,
      p50Ms: ms(percentile(latencies, 50)),
      p99Ms: ms(percentile(latencies, 99)),
      maxMs,
      overTargetMs,
      staleAtEnd,
      drainSeconds: Math.round(drainSeconds * 10) / 10,
      peakRssMb: rss,
      targets: {
        'every delivery answered 202': answers['202'] === count,
        '0 failed syncs': failedSyncs === 0,
        [`every change in the store within ${LATENCY_TARGET_MS / 1000} s`]: overTargetMs === 0,
        'every secret ends with its last content': staleAtEnd === 0,
        [`peak RSS < ${RSS_TARGET_MB} MB`]: rss < RSS_TARGET_MB,
      },
    };
  } finally {
    await server.close();
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const report = (f: BurstFigures): string =>
  [
    markdownTable(
      [
        'burst',
        'answers',
        'syncs started / folded',
        'peak running',
        'failed syncs',
        'transitions / sync',
        'p50 / p99 / max ms',
        'over 5 s',
        'stale at end',
        'drain s',
        'peak RSS MB',
      ],
      [
        [
          `${f.rate}/s for ${f.seconds} s over ${f.secrets} secrets, concurrency ${f.concurrency}, seed ${f.seed}`,
          Object.entries(f.answers)
            .map(([status, n]) => `${n} × ${status}`)
            .join(', '),
          `${f.syncsStarted} / ${f.coalesced}`,
          f.peakRunning,
          f.failedSyncs,
          f.transitionsPerSync,
          `${f.p50Ms} / ${f.p99Ms} / ${f.maxMs}`,
          f.overTargetMs,
          f.staleAtEnd,
          f.drainSeconds,
          f.peakRssMb,
        ],
      ],
    ),
    '',
    ...Object.entries(f.targets).map(([target, met]) => `- ${target}: ${met ? 'met' : 'NOT MET'}`),
  ].join('\n');

/** `bench burst`: runs the burst in a child process (its peak RSS its own) and prints its figures. */
export const burstBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '60' },
      rate: { type: 'string', default: '20' },
      secrets: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: String(DEFAULT_WEBHOOK_SYNC_CONCURRENCY) },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      scenario: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: BurstOptions = {
    seconds: Number(values.seconds),
    rate: Number(values.rate),
    secrets: Number(values.secrets),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
  };
  const bad = Object.entries(options).filter(
    ([name, n]) => !(name === 'seconds' || name === 'rate' ? n > 0 : Number.isInteger(n) && n >= 1),
  );
  if (bad.length > 0) {
    console.error(
      `${bad.map(([name]) => `--${name}`).join(', ')}: must be a positive number (--secrets, --concurrency and --seed whole)\n\n${BURST_USAGE}`,
    );
    return 2;
  }
  if (values.scenario) {
    console.log(JSON.stringify(await runBurst(options)));
    return 0;
  }
  console.error(
    `sending ${options.rate} deliveries a second for ${options.seconds} s over ${options.secrets} secrets...`,
  );
  const figures = runScenarioInChild<BurstFigures>(['--scenario']);
  if (!figures) return 1;
  console.log(report(figures));
  if (values.json) console.log(JSON.stringify(figures));
  return 0;
};
