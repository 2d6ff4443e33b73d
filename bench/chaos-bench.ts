import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import type { ExecutionRecord, RunningExecution } from '../engine';
import { SECRET_DETAIL_TYPES, SVID_DETAIL_TYPES } from '../functions/shared/domain/audit';
import { replayInputOf, replayNameOf } from '../functions/shared/domain/replay';
import { decodeSpireSvidSecret } from '../client/spiffe/spire-secret';
import { SVID_TAG, svidSecretName } from '../functions/shared/domain/svid-secret';
import { syncedSecretName, syncedSecretPrefix } from '../functions/shared/domain/synced-secret-name';
import {
  createLocalStack,
  type LocalServices,
  type LocalStack,
  readLocalStack,
  ROTATE_SVIDS,
  SYNC_SECRETS,
} from '../local-stack/stack';
import { SDK_MAX_ATTEMPTS } from '../functions/shared/aws/clients';
import { FaultInjector, seededRandom } from './fault-injection';
import { markdownTable, peakRssMb, WRITE_OPERATIONS } from './rotation-bench';
import { writeFleetEnrollments } from './fleet';

const BIN = fileURLToPath(new URL('../bin/trust-bridge.js', import.meta.url));
const ENVIRONMENT = 'prod';
/** A sync fleet's secrets are spread over this many accounts (one agent each). */
const SYNC_ACCOUNTS = 10;
/** Short enough that a stalled Keywhiz answer costs about a second, long enough for a loaded 2-core machine. */
const KEYWHIZ_TIMEOUT_MS = 1000;

type Workflow = 'rotation' | 'sync';
type Mode = 'faults' | 'kills';

export interface ChaosOptions {
  workflow: Workflow;
  mode: Mode;
  /** Accounts to rotate, or secrets to sync. */
  size: number;
  seed: number;
  /** SIGKILLs per kill scenario. */
  kills?: number;
}

/** One scenario's outcome: the invariants, and what convergence took. */
export interface ChaosFigures {
  workflow: Workflow;
  mode: Mode;
  seed: number;
  size: number;
  /** Every phase ended SUCCEEDED within its retries plus at most one replay, and the stores hold what it wrote. */
  converged: boolean;
  /** Top-level runs the scenario started, replays and reruns included. */
  runs: number;
  replays: number;
  /** Stand-in calls, each SDK retry counted (faults); CLI processes started (kills). */
  calls: number;
  faults: Record<string, number>;
  sigkills: number;
  duplicateVersions: number;
  regressions: number;
  unauditedFailures: number;
  /** Failure events on the audit bus, by error name (each is then retried by a replay or a rerun). */
  auditedFailures: Record<string, number>;
  /** Files named *.tmp left in the data directory once converged. */
  leftoverTempFiles: number;
  seconds: number;
  peakRssMb: number;
  /** The precise failing cases, a few of each. */
  problems: string[];
}

/** What the checks of one scenario found; the counts are summed, the problems listed (the first 10). */
class Findings {
  duplicateVersions = 0;
  regressions = 0;
  unauditedFailures = 0;
  incomplete = 0;
  /** The audited failures, by error name: what the retries did not absorb. */
  readonly failuresByError: Record<string, number> = {};
  readonly problems: string[] = [];

  /** The accounts named in the problems, whose audited failures are listed after them. */
  readonly accounts = new Set<string>();

  /** A run that still failed after its one replay: what it failed with, and for which accounts. */
  unconverged(run: ExecutionRecord): void {
    const accounts = replayInputOf(run.cause)?.accounts ?? [];
    this.problems.push(
      `${run.name} ended ${run.status} (${run.error ?? 'no error'})${accounts.length > 0 ? ` for ${accounts.length} account(s): ${accounts.slice(0, 5).join(', ')}` : ''}`,
    );
    for (const accountId of accounts.slice(0, 5)) this.accounts.add(accountId);
  }

  note(
    kind: 'duplicateVersions' | 'regressions' | 'unauditedFailures' | 'incomplete',
    problem: string,
    accountId?: string,
  ) {
    this[kind] += 1;
    if (this.problems.length >= 10) return;
    this.problems.push(problem);
    if (accountId) this.accounts.add(accountId);
  }
}

// --- fleets ------------------------------------------------------------------------------------

interface Fleet {
  dir: string;
  dataDir: string;
  enrollmentsPath: string;
  keywhizDir: string;
  targets: { accountId: string; service: string; secrets: string[] }[];
}

/** `accounts` enrolled services; with `secretsPerAccount`, each has that many Keywhiz secrets of version 1. */
const writeFleet = (accounts: number, secretsPerAccount = 0): Fleet => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-chaos-'));
  const keywhizDir = join(dir, 'keywhiz');
  const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, accounts, {
    firstAccountId: 300_000_000_000,
    secretEnabled: () => secretsPerAccount > 0,
    readerRoles: ['app'],
  });
  const targets = enrollments.map(({ accountId, service }) => ({
    accountId,
    service,
    secrets: Array.from({ length: secretsPerAccount }, (_, j) => `secret-${j}`),
  }));
  writeContents(keywhizDir, targets, 1);
  return { dir, dataDir: join(dir, 'data'), enrollmentsPath, keywhizDir, targets };
};

/** Benchmark content, not a real secret: its version is readable, so an older one is recognised. */
const contentOf = (service: string, name: string, version: number) => `${service} ${name} v${version}\n`;

const writeContents = (keywhizDir: string, targets: Fleet['targets'], version: number) => {
  for (const { service, secrets } of targets) {
    mkdirSync(join(keywhizDir, service), { recursive: true });
    for (const name of secrets)
      writeFileSync(join(keywhizDir, service, name), contentOf(service, name, version));
  }
};

// --- runs --------------------------------------------------------------------------------------

/** A failed run re-run once, as `trust-bridge replay` does: its failed accounts, or a redrive. */
const replayOnce = (stack: LocalStack, original: ExecutionRecord): Promise<ExecutionRecord> => {
  const items = replayInputOf(original.cause);
  if (!items) return stack.redrive(original.executionArn);
  return stack.engine.startExecution(
    original.stateMachineName,
    { ...items, replayOf: original.executionArn },
    { name: replayNameOf(original.name) },
  );
};

/** One run and, when it failed, its one replay; the runs started, in order. */
const runWithOneReplay = async (stack: LocalStack, start: () => Promise<ExecutionRecord>) => {
  const first = await start();
  return first.status === 'SUCCEEDED' ? [first] : [first, await replayOnce(stack, first)];
};

type SecretsManager = LocalServices['secretsManager'];

/** Every version written (CreateSecret or PutSecretValue that answered a VersionId), in order, per secret name. */
const recordWrites = (client: SecretsManager, log: Map<string, string[]>) => {
  const send = client.send.bind(client);
  const recording = async (command: never) => {
    const answer = (await send(command)) as { Name?: string; VersionId?: string };
    const operation = (command as object).constructor.name.replace(/Command$/, '');
    if (WRITE_OPERATIONS.includes(operation) && answer.Name && answer.VersionId) {
      const versions = log.get(answer.Name) ?? [];
      if (versions.at(-1) !== answer.VersionId) versions.push(answer.VersionId);
      log.set(answer.Name, versions);
    }
    return answer;
  };
  Object.defineProperty(client, 'send', { value: recording, configurable: true, writable: true });
};

// --- checks ------------------------------------------------------------------------------------

interface StoredVersions {
  current: string | undefined;
  versionIds: string[];
}

const storedVersions = async (store: SecretsManager, name: string): Promise<StoredVersions | undefined> => {
  try {
    const described = await store.send(new DescribeSecretCommand({ SecretId: name }));
    const stages = Object.entries(described.VersionIdsToStages ?? {});
    return {
      current: stages.find(([, s]) => s.includes('AWSCURRENT'))?.[0],
      versionIds: stages.map(([id]) => id),
    };
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
};

const certificateOf = async (store: SecretsManager, name: string, versionId: string) => {
  const value = await store.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId }));
  return new X509Certificate(decodeSpireSvidSecret(value.SecretBinary as Uint8Array).x509SVID);
};

/**
 * Each account's SVID: `expectedVersions` versions (more are duplicates), the current one the newest (by the
 * write log when there is one, else by certificate date), and complete: a resource policy, and a serial tag
 * that is the current certificate's.
 */
const checkSvids = async (
  fleet: Fleet,
  expectedVersions: number,
  findings: Findings,
  written?: Map<string, string[]>,
) => {
  const local = readLocalStack(fleet.dataDir);
  const store = local.centralSecretsManager();
  for (const { accountId, service } of fleet.targets) {
    const name = svidSecretName(local.config.SVID_SECRET_PREFIX, ENVIRONMENT, service);
    const stored = await storedVersions(store, name);
    if (!stored?.current) {
      findings.note('incomplete', `${accountId}: no current SVID in ${name}`, accountId);
      continue;
    }
    const current = await certificateOf(store, name, stored.current);
    const newest = written?.get(name)?.at(-1);
    const regressed =
      newest !== undefined ? newest !== stored.current : await newerThan(store, name, stored, current);
    const described = await store.send(new DescribeSecretCommand({ SecretId: name }));
    const serial = described.Tags?.find((t) => t.Key === SVID_TAG.serial)?.Value;
    const policy = await store.send(new GetResourcePolicyCommand({ SecretId: name }));
    const problems = [
      ...(stored.versionIds.length > expectedVersions
        ? [
            [
              'duplicateVersions',
              `${stored.versionIds.length} versions, ${expectedVersions} expected`,
            ] as const,
          ]
        : []),
      ...(regressed ? [['regressions', `AWSCURRENT is not its newest version`] as const] : []),
      ...(policy.ResourcePolicy ? [] : [['incomplete', 'no resource policy'] as const]),
      ...(serial === current.serialNumber.toLowerCase()
        ? []
        : [['incomplete', `serial tag ${serial} is not the current certificate's`] as const]),
    ];
    if (problems.length === 0) continue;
    // What a reader needs to trace it: each version (stages, serial), our tags, and the order versions were written.
    const versions: string[] = [];
    for (const id of stored.versionIds) {
      const stages = described.VersionIdsToStages?.[id]?.join('+') || 'no stage';
      versions.push(
        `${id} (${stages}, serial ${(await certificateOf(store, name, id)).serialNumber.toLowerCase()})`,
      );
    }
    const tags = (described.Tags ?? [])
      .filter((t) => t.Key?.startsWith('trust-bridge:') && t.Key !== SVID_TAG.managedBy)
      .map((t) => `${t.Key}=${t.Value}`);
    const state = `versions ${versions.join(', ')}; tags ${tags.join(' ')}${written ? `; written in order ${(written.get(name) ?? []).join(', ')}` : ''}`;
    for (const [kind, problem] of problems)
      findings.note(kind, `${accountId}: ${name}: ${problem}; ${state}`, accountId);
  }
};

/** Whether another version of the secret holds a certificate issued after the current one. */
const newerThan = async (
  store: SecretsManager,
  name: string,
  stored: StoredVersions,
  current: X509Certificate,
) => {
  for (const id of stored.versionIds.filter((v) => v !== stored.current)) {
    const other = await certificateOf(store, name, id);
    if (Date.parse(other.validFrom) > Date.parse(current.validFrom)) return true;
  }
  return false;
};

/**
 * Each synced secret: its current content is Keywhiz's `version` (else a regression when that content is
 * stored but not current, incomplete when it is not stored at all), and no two versions hold the same content.
 */
const checkSyncedSecrets = async (fleet: Fleet, version: number, findings: Findings) => {
  const local = readLocalStack(fleet.dataDir);
  for (const { accountId, service, secrets } of fleet.targets) {
    const store = local.accountSecretsManager(accountId);
    const prefix = syncedSecretPrefix(local.config.SYNC_SECRET_PREFIX, ENVIRONMENT, service);
    for (const keywhizName of secrets) {
      const name = syncedSecretName(prefix, keywhizName);
      const stored = await storedVersions(store, name);
      if (!stored?.current) {
        findings.note('incomplete', `${accountId}: ${name} was never synced`, accountId);
        continue;
      }
      const contents = new Map<string, string>();
      for (const id of stored.versionIds) {
        const value = await store.send(new GetSecretValueCommand({ SecretId: name, VersionId: id }));
        contents.set(id, value.SecretString ?? Buffer.from(value.SecretBinary ?? []).toString('utf8'));
      }
      const distinct = new Set(contents.values()).size;
      if (distinct < stored.versionIds.length) {
        findings.note(
          'duplicateVersions',
          `${accountId}: ${name} has ${stored.versionIds.length} versions for ${distinct} contents`,
          accountId,
        );
      }
      const expected = contentOf(service, keywhizName, version);
      if (contents.get(stored.current) === expected) continue;
      if ([...contents.values()].includes(expected)) {
        findings.note(
          'regressions',
          `${accountId}: ${name} AWSCURRENT holds older content than a stored version`,
          accountId,
        );
      } else {
        findings.note('incomplete', `${accountId}: ${name} does not hold Keywhiz's v${version}`, accountId);
      }
    }
  }
};

/**
 * Every account a run reports failed has its failure event on the audit bus, under the run's id. A run that
 * failed outside its fan-out names no accounts: its execution record is what tells of it (and replay redrives it).
 */
const checkAudited = async (
  dataDir: string,
  workflow: Workflow,
  runs: (ExecutionRecord | RunningExecution)[],
  findings: Findings,
) => {
  const failedType = workflow === 'rotation' ? SVID_DETAIL_TYPES.failed : SECRET_DETAIL_TYPES.failed;
  const failures = (await readLocalStack(dataDir).auditEvents())
    .filter((e) => e['detail-type'] === failedType)
    .map((e) => e.detail as { runId?: string; accountId?: string; error?: string });
  const audited = new Set(failures.map((detail) => `${detail.runId} ${detail.accountId}`));
  for (const { runId, accountId, error } of failures) {
    const name = error ?? 'unnamed';
    findings.failuresByError[name] = (findings.failuresByError[name] ?? 0) + 1;
    if (accountId && findings.accounts.has(accountId)) {
      findings.problems.push(`${accountId}: audited '${failedType}' in run ${runId}: ${name}`);
    }
  }
  for (const run of runs) {
    if (!('cause' in run)) continue;
    for (const accountId of replayInputOf(run.cause)?.accounts ?? []) {
      if (!audited.has(`${run.name} ${accountId}`)) {
        findings.note(
          'unauditedFailures',
          `${run.name}: account ${accountId} failed with no '${failedType}' event`,
        );
      }
    }
  }
};

const tempFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => /\.tmp/.test(path));

// --- scenarios under injected faults -----------------------------------------------------------

/**
 * The fleet is set up without faults, then each phase runs under them: a fresh rotation, then a forced one
 * (every account gets a second certificate); or a first sync, then a sync of every secret changed in Keywhiz.
 */
const underFaults = async (options: ChaosOptions): Promise<ChaosFigures> => {
  const { workflow, size, seed } = options;
  const accounts = workflow === 'rotation' ? size : Math.min(SYNC_ACCOUNTS, size);
  const fleet = writeFleet(accounts, workflow === 'sync' ? Math.ceil(size / accounts) : 0);
  const started = performance.now();
  const injector = new FaultInjector(seed);
  const written = new Map<string, string[]>();
  const stack = await createLocalStack({
    dataDir: fleet.dataDir,
    enrollmentsPath: fleet.enrollmentsPath,
    ...(workflow === 'sync' ? { keywhizDir: fleet.keywhizDir } : {}),
    env: {
      ACCOUNT_CONCURRENCY: '40',
      CHUNK_CONCURRENCY: '4',
      KEYWHIZ_TIMEOUT_MS: String(KEYWHIZ_TIMEOUT_MS),
    },
  });
  const findings = new Findings();
  const runs: ExecutionRecord[] = [];
  const phases: boolean[] = [];
  let replays = 0;
  try {
    const { services } = stack;
    if (workflow === 'sync') {
      const rotation = await stack.rotate();
      if (rotation.status !== 'SUCCEEDED')
        throw new Error(`setup rotation ${rotation.status}: ${rotation.cause}`);
    }
    const stores = [
      services.secretsManager,
      ...fleet.targets.map((t) => services.accountSecretsManager(t.accountId)),
    ];
    for (const store of stores) {
      recordWrites(store, written);
      injector.wrap('secretsManager', store);
    }
    injector.wrap('ca', services.pca);
    injector.wrap('eventBridge', services.eventBus);
    if (services.keywhiz) injector.wrapKeywhiz(services.keywhiz, KEYWHIZ_TIMEOUT_MS);

    const phase = async (start: () => Promise<ExecutionRecord>) => {
      const phaseRuns = await runWithOneReplay(stack, start);
      runs.push(...phaseRuns);
      replays += phaseRuns.length - 1;
      const last = phaseRuns.at(-1);
      phases.push(last?.status === 'SUCCEEDED');
      if (last && last.status !== 'SUCCEEDED') findings.unconverged(last);
    };
    if (workflow === 'rotation') {
      await phase(() => stack.rotate());
      await phase(() => stack.rotate({ force: true }));
    } else {
      await phase(() => stack.sync());
      writeContents(fleet.keywhizDir, fleet.targets, 2);
      await phase(() => stack.sync());
    }
    injector.pause(true);
    await stack.settled();
  } finally {
    await stack.close();
  }
  try {
    if (workflow === 'rotation') await checkSvids(fleet, 2, findings, written);
    else await checkSyncedSecrets(fleet, 2, findings);
    await checkAudited(fleet.dataDir, workflow, runs, findings);
    return figures(options, {
      converged: phases.every(Boolean) && findings.incomplete === 0,
      runs: runs.length,
      replays,
      calls: injector.totalAttempts,
      faults: { ...injector.faults },
      sigkills: 0,
      findings,
      leftoverTempFiles: tempFiles(fleet.dataDir).length,
      started,
    });
  } finally {
    rmSync(fleet.dir, { recursive: true, force: true });
  }
};

// --- scenarios with the local stack SIGKILLed --------------------------------------------------

/** How many secret files of the local stores were written since `since` (epoch ms): a run's progress, from outside. */
const filesWrittenSince = (dataDir: string, since: number): number => {
  const root = join(dataDir, 'secretsmanager');
  let written = 0;
  try {
    for (const path of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      try {
        if (path.endsWith('.json') && statSync(join(root, path)).mtimeMs >= since) written += 1;
      } catch {
        // Renamed or removed between the listing and the look: not counted.
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return written;
};

/**
 * Runs the CLI in a child process. With `killAt`, SIGKILLs it once that many secret files were written since it
 * started (a seeded point in the run's progress, whatever the machine's load); a run that ends first is not killed.
 */
const cli = (args: string[], dataDir: string, killAt?: number) =>
  new Promise<{ code: number | null; killed: boolean }>((resolve, reject) => {
    const since = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += String(chunk);
    });
    let killed = false;
    const watch =
      killAt === undefined
        ? undefined
        : setInterval(() => {
            if (filesWrittenSince(dataDir, since) >= killAt) killed = child.kill('SIGKILL');
          }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(watch);
      if (!killed && code !== 0 && code !== 1) {
        reject(new Error(`trust-bridge ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      }
      resolve({ code, killed });
    });
  });

/**
 * The CLI on a data directory, SIGKILLed at seeded times `kills` times, then rerun to its end and, when that
 * fails, replayed once (`replay --failed`). Rotation: a fresh fleet (one version per SVID expected). Sync: a
 * synced fleet whose every secret then changed in Keywhiz (each ends with two versions, the newest current).
 */
const underKills = async (options: ChaosOptions): Promise<ChaosFigures> => {
  const { workflow, size, seed, kills = 3 } = options;
  const accounts = workflow === 'rotation' ? size : Math.min(SYNC_ACCOUNTS, size);
  const fleet = writeFleet(accounts, workflow === 'sync' ? Math.ceil(size / accounts) : 0);
  const started = performance.now();
  const random = seededRandom(seed);
  const findings = new Findings();
  try {
    const common = ['--data-dir', fleet.dataDir, '--enrollments', fleet.enrollmentsPath];
    const command =
      workflow === 'rotation'
        ? ['rotate', '--once', ...common]
        : ['sync', ...common, '--keywhiz-dir', fleet.keywhizDir];
    let processes = 0;
    if (workflow === 'sync') {
      // The synced fleet is set up in this process, without kills; the stack gives the data directory up on close.
      const stack = await createLocalStack({
        dataDir: fleet.dataDir,
        enrollmentsPath: fleet.enrollmentsPath,
        keywhizDir: fleet.keywhizDir,
      });
      try {
        for (const run of [() => stack.rotate(), () => stack.sync()]) {
          const setup = await run();
          if (setup.status !== 'SUCCEEDED')
            throw new Error(`setup ${setup.name} ${setup.status}: ${setup.cause}`);
        }
      } finally {
        await stack.close();
      }
      writeContents(fleet.keywhizDir, fleet.targets, 2);
    }
    const killedFrom = new Date().toISOString();
    let killed = 0;
    const toWrite =
      workflow === 'rotation' ? accounts : fleet.targets.length * (fleet.targets[0]?.secrets.length ?? 0);
    for (let k = 0; k < kills; k++) {
      processes += 1;
      // Somewhere between 5 % and 95 % of the run's writes, seeded.
      const killAt = Math.max(1, Math.round((0.05 + 0.9 * random()) * toWrite));
      if ((await cli(command, fleet.dataDir, killAt)).killed) killed += 1;
    }
    processes += 1;
    const rerun = await cli(command, fleet.dataDir);
    let replays = 0;
    let ok = rerun.code === 0;
    if (!ok) {
      replays = 1;
      processes += 1;
      ok = (await cli(['replay', '--failed', ...common], fleet.dataDir)).code === 0;
    }
    const records = (await readLocalStack(fleet.dataDir).executions(() => undefined)).filter(
      (r) =>
        !r.parentExecutionArn &&
        r.stateMachineName === (workflow === 'rotation' ? ROTATE_SVIDS : SYNC_SECRETS) &&
        r.startDate >= killedFrom,
    );
    if (workflow === 'rotation') await checkSvids(fleet, 1, findings);
    else await checkSyncedSecrets(fleet, 2, findings);
    await checkAudited(fleet.dataDir, workflow, records, findings);
    return figures(options, {
      converged: ok && findings.incomplete === 0,
      runs: records.length,
      replays,
      calls: processes,
      faults: {},
      sigkills: killed,
      findings,
      leftoverTempFiles: tempFiles(fleet.dataDir).length,
      started,
    });
  } finally {
    rmSync(fleet.dir, { recursive: true, force: true });
  }
};

const figures = (
  options: ChaosOptions,
  result: Pick<
    ChaosFigures,
    'converged' | 'runs' | 'replays' | 'calls' | 'faults' | 'sigkills' | 'leftoverTempFiles'
  > & { findings: Findings; started: number },
): ChaosFigures => {
  const { findings, started, ...rest } = result;
  return {
    workflow: options.workflow,
    mode: options.mode,
    seed: options.seed,
    size: options.size,
    ...rest,
    duplicateVersions: findings.duplicateVersions,
    regressions: findings.regressions,
    unauditedFailures: findings.unauditedFailures,
    auditedFailures: findings.failuresByError,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    peakRssMb: peakRssMb(),
    problems: findings.problems,
  };
};

/** One chaos scenario: seeded faults on every stand-in, or seeded SIGKILLs of the CLI. */
export const runChaos = (options: ChaosOptions): Promise<ChaosFigures> =>
  options.mode === 'faults' ? underFaults(options) : underKills(options);

/** The invariants every scenario must hold, by name; the bench fails when one does not. */
export const invariantsHeld = (f: ChaosFigures): Record<string, boolean> => ({
  'converged within the retries plus at most one replay': f.converged,
  '0 duplicate versions': f.duplicateVersions === 0,
  '0 regressions to older content': f.regressions === 0,
  '0 failures not audited': f.unauditedFailures === 0,
});

const report = (all: ChaosFigures[]): string =>
  [
    markdownTable(
      [
        'scenario',
        'seed',
        'converged',
        'runs (replays)',
        'calls',
        'faults: throttled / 5xx / timed out',
        'SIGKILLs',
        'duplicate versions',
        'regressions',
        'failures not audited',
        'leftover .tmp files',
        'wall s',
        'peak RSS MB',
      ],
      all.map((f) => [
        `${f.size.toLocaleString('en')}-${f.workflow === 'rotation' ? 'account rotation' : 'secret sync'}, ${f.mode === 'faults' ? 'injected faults' : 'SIGKILLs'}`,
        f.seed,
        f.converged ? 'yes' : 'NO',
        `${f.runs} (${f.replays})`,
        f.mode === 'faults' ? `${f.calls.toLocaleString('en')} stand-in calls` : `${f.calls} CLI processes`,
        f.mode === 'faults' ? `${f.faults.throttle} / ${f.faults.serverError} / ${f.faults.timeout}` : '-',
        f.sigkills,
        f.duplicateVersions,
        f.regressions,
        f.unauditedFailures,
        f.leftoverTempFiles,
        f.seconds,
        f.peakRssMb,
      ]),
    ),
    ...all.flatMap((f) =>
      f.problems.length === 0
        ? []
        : ['', `${f.workflow} ${f.mode} (seed ${f.seed}):`, ...f.problems.map((p) => `- ${p}`)],
    ),
  ].join('\n');

export const CHAOS_USAGE = `bench chaos [--accounts N] [--secrets N] [--seed S] [--kills K] [--json]
  Seeded fault injection on the embedded default: the CA, Secrets Manager, EventBridge and Keywhiz throttle
  30 % of calls, fail 10 % with a 5xx and time out on 2 % (the call carried out, its answer lost), behind the
  retries every function's SDK client makes (${SDK_MAX_ATTEMPTS} attempts); then the CLI SIGKILLed K times at
  seeded points (default 3) and rerun. For a rotation of N accounts (default 1,000) and a sync of N secrets
  (default 1,000): whether each converges within the retries plus at most one replay, duplicate versions,
  regressions to older content and failures not audited (each must be 0), and what convergence took. Exits 1 when an invariant does not hold.`;

/** `bench chaos` (`npm run chaos`). */
export const chaosBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string', default: '1000' },
      secrets: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      kills: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const [accounts, secrets, seed, kills] = [values.accounts, values.secrets, values.seed, values.kills].map(
    Number,
  );
  const whole = (n: number | undefined, least: number) => Number.isInteger(n) && (n ?? 0) >= least;
  if (!whole(accounts, 1) || !whole(secrets, 1) || !whole(seed, 0) || !whole(kills, 0)) {
    console.error(
      `--accounts and --secrets take whole numbers from 1, --seed and --kills from 0\n\n${CHAOS_USAGE}`,
    );
    return 2;
  }
  const all: ChaosFigures[] = [];
  for (const [workflow, size] of [
    ['rotation', accounts],
    ['sync', secrets],
  ] as const) {
    for (const mode of ['faults', 'kills'] as const) {
      console.error(`chaos: ${workflow} of ${size}, ${mode}, seed ${seed}...`);
      all.push(await runChaos({ workflow, mode, size: size ?? 0, seed: seed ?? 1, kills }));
    }
  }
  console.log(report(all));
  if (values.json) console.log(JSON.stringify(all));
  return all.every((f) => Object.values(invariantsHeld(f)).every(Boolean)) ? 0 : 1;
};
