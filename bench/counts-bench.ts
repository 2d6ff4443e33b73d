/**
 * `bench counts`: what one unit of work costs in AWS calls, measured on the embedded default with every call
 * counted: the renewal of an existing SVID (the steady state, every rotation interval for the whole fleet), an
 * agent's reconcile with nothing to do, and one Keywhiz change synced on its own (what a webhook delivery starts). `trust-bridge cost` prices these counts
 * (cli/cost/measured-counts.json is this command's output, and a test holds the two together).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dependencies } from '../functions/shared/dependencies';
import { createLocalStack, type LocalStack } from '../local-stack/stack';
import { probeAcmPca } from './acm-pca-probe';
import { WRITE_OPERATIONS } from './rotation-bench';
import { probeSecretsManager } from './secrets-manager-probe';
import { writeFleetEnrollments } from './fleet';

const VALUE_READ_OPERATIONS = ['GetSecretValue', 'BatchGetSecretValue'];

/** What one unit of work made, each count divided by the units measured. */
export interface UnitCounts {
  caIssue: number;
  caGetCertificate: number;
  secretsManagerCalls: number;
  /** Values written (CreateSecret, PutSecretValue): one KMS GenerateDataKey each. */
  secretsManagerValueWrites: number;
  /** Values read (GetSecretValue, BatchGetSecretValue): one KMS Decrypt each. */
  secretsManagerValueReads: number;
  auditEvents: number;
  /** Their JSON, as the archive keeps it. */
  auditEventBytes: number;
  stateTransitions: number;
  executions: number;
  /** Lambda invocations, by step (functions/<step>/). */
  lambdaInvocations: Record<string, number>;
  accountStatusWrites: number;
  keywhizRequests: number;
}

export interface MeasuredCounts {
  /** The command that measured them, and the fleet it measured on. */
  measuredWith: string;
  fleet: { accounts: number; secretsPerAccount: number };
  /** Per account: an SVID renewed (it exists; the run is due). */
  renewal: UnitCounts;
  /** Per secret-enabled account: a full reconcile that finds nothing changed. */
  reconcile: UnitCounts;
  /** Per change synced on its own (what a webhook delivery starts), the receiver not included. */
  targetedSync: UnitCounts;
}

/** Every counter the units read, at one moment. */
const snapshot = (stack: LocalStack, accountIds: string[], counters: Counters) => {
  const sm: Record<string, number> = {};
  for (const store of [
    stack.services.secretsManager,
    ...accountIds.map((id) => stack.services.accountSecretsManager(id)),
  ]) {
    for (const [op, n] of Object.entries(probeSecretsManager(store).calls)) sm[op] = (sm[op] ?? 0) + n;
  }
  const pca = probeAcmPca(stack.services.pca).calls;
  const keywhiz = stack.services.keywhiz?.requests ?? {};
  const sumOf = (ops?: string[]) =>
    Object.entries(sm).reduce((n, [op, c]) => n + (!ops || ops.includes(op) ? c : 0), 0);
  const totals = stack.engine.totals();
  return {
    caIssue: pca.IssueCertificate ?? 0,
    caGetCertificate: pca.GetCertificate ?? 0,
    secretsManagerCalls: sumOf(),
    secretsManagerValueWrites: sumOf(WRITE_OPERATIONS),
    secretsManagerValueReads: sumOf(VALUE_READ_OPERATIONS),
    auditEvents: counters.auditEvents,
    auditEventBytes: counters.auditEventBytes,
    stateTransitions: totals.stateTransitions,
    executions: totals.executions,
    lambdaInvocations: { ...counters.lambdaInvocations },
    accountStatusWrites: counters.accountStatusWrites,
    keywhizRequests: Object.values(keywhiz).reduce((a: number, b) => a + Number(b), 0),
  };
};

/** The counts a run made, per unit. */
const perUnit = (before: UnitCounts, after: UnitCounts, units: number): UnitCounts => {
  const each = (a: number, b: number) => round((a - b) / units);
  const steps = new Set([...Object.keys(after.lambdaInvocations), ...Object.keys(before.lambdaInvocations)]);
  return {
    caIssue: each(after.caIssue, before.caIssue),
    caGetCertificate: each(after.caGetCertificate, before.caGetCertificate),
    secretsManagerCalls: each(after.secretsManagerCalls, before.secretsManagerCalls),
    secretsManagerValueWrites: each(after.secretsManagerValueWrites, before.secretsManagerValueWrites),
    secretsManagerValueReads: each(after.secretsManagerValueReads, before.secretsManagerValueReads),
    auditEvents: each(after.auditEvents, before.auditEvents),
    auditEventBytes: Math.round((after.auditEventBytes - before.auditEventBytes) / units),
    stateTransitions: each(after.stateTransitions, before.stateTransitions),
    executions: each(after.executions, before.executions),
    lambdaInvocations: Object.fromEntries(
      [...steps]
        .sort()
        .map((step) => [step, each(after.lambdaInvocations[step] ?? 0, before.lambdaInvocations[step] ?? 0)])
        .filter(([, n]) => n !== 0),
    ),
    accountStatusWrites: each(after.accountStatusWrites, before.accountStatusWrites),
    keywhizRequests: each(after.keywhizRequests, before.keywhizRequests),
  };
};

/** Four decimals: enough for a per-run share spread over a fleet, stable from run to run. */
const round = (n: number) => Math.round(n * 10_000) / 10_000;

interface Counters {
  auditEvents: number;
  auditEventBytes: number;
  accountStatusWrites: number;
  lambdaInvocations: Record<string, number>;
}

/** Task states' names are their steps' folders in kebab case (test/statemachines/steps.test.ts). */
const stepOf = (stateName: string) => stateName.toLowerCase().replace(/\s+/g, '-');

export const measureCounts = async (accounts: number, secretsPerAccount: number): Promise<MeasuredCounts> => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-counts-'));
  try {
    const { enrollmentsPath, enrollments } = writeFleetEnrollments(dir, accounts, {
      firstAccountId: 300_000_000_000,
      secretEnabled: () => true,
      readerRoles: ['app'],
    });
    const keywhizDir = join(dir, 'keywhiz');
    const writeSecrets = (version: number) => {
      for (const { service } of enrollments) {
        mkdirSync(join(keywhizDir, service), { recursive: true });
        for (let j = 0; j < secretsPerAccount; j++) {
          writeFileSync(
            join(keywhizDir, service, `secret-${j}`),
            `${service} secret ${j} version ${version}\n`,
          );
        }
      }
    };
    writeSecrets(1);

    const counters: Counters = {
      auditEvents: 0,
      auditEventBytes: 0,
      accountStatusWrites: 0,
      lambdaInvocations: {},
    };
    const steps = new Set(Object.values(await stepsManifest()));
    const stack = await createLocalStack({
      dataDir: join(dir, 'data'),
      enrollmentsPath,
      keywhizDir,
      onStatePayload: (state, direction) => {
        const step = stepOf(state);
        if (direction === 'input' && steps.has(step)) {
          counters.lambdaInvocations[step] = (counters.lambdaInvocations[step] ?? 0) + 1;
        }
      },
      decorate: (deps: Dependencies): Dependencies => ({
        ...deps,
        audit: {
          publish: async (events) => {
            counters.auditEvents += events.length;
            counters.auditEventBytes += events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
            return deps.audit.publish(events);
          },
        },
        accountStatus: {
          ...deps.accountStatus,
          record: async (entries) => {
            counters.accountStatusWrites += entries.length;
            return deps.accountStatus.record(entries);
          },
        },
      }),
    });
    try {
      const accountIds = enrollments.map((e) => e.accountId);
      const now = () => snapshot(stack, accountIds, counters);
      const measure = async (run: () => Promise<{ status: string }>, units: number) => {
        const before = now();
        const { status } = await run();
        if (status !== 'SUCCEEDED') throw new Error(`bench counts: a measured run ended ${status}`);
        return perUnit(before, now(), units);
      };
      // Every SVID issued and every secret synced once, then the steady state.
      await measure(() => stack.rotate(), accounts);
      await measure(() => stack.sync(), accounts);
      const renewal = await measure(() => stack.rotate({ force: true }), accounts);
      const reconcile = await measure(() => stack.sync(), accounts);
      writeSecrets(2);
      const targetedSync = await measure(
        () => stack.sync({ secret: 'secret-0', services: [enrollments[0]!.service] }),
        1,
      );
      return {
        measuredWith: `node --import tsx bench/main.ts counts --accounts ${accounts} --secrets-per-account ${secretsPerAccount}`,
        fleet: { accounts, secretsPerAccount },
        renewal,
        reconcile,
        targetedSync,
      };
    } finally {
      await stack.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const stepsManifest = async (): Promise<Record<string, string>> => {
  const { readFile } = await import('node:fs/promises');
  const manifest = JSON.parse(
    await readFile(new URL('../statemachines/steps.json', import.meta.url), 'utf8'),
  ) as Record<string, string>;
  return Object.fromEntries(Object.entries(manifest).filter(([key]) => !key.startsWith('$')));
};

/** `bench counts [--accounts N] [--secrets-per-account M] [--write FILE]`: prints (or writes) the counts as JSON. */
export const countsBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string', default: '200' },
      'secrets-per-account': { type: 'string', default: '10' },
      write: { type: 'string' },
    },
    strict: true,
  });
  const accounts = Number(values.accounts);
  const secrets = Number(values['secrets-per-account']);
  if (!Number.isInteger(accounts) || accounts < 1 || !Number.isInteger(secrets) || secrets < 1) {
    console.error('bench counts: --accounts and --secrets-per-account take whole numbers from 1');
    return 2;
  }
  const json = `${JSON.stringify(await measureCounts(accounts, secrets), null, 2)}\n`;
  if (values.write) writeFileSync(values.write, json);
  else process.stdout.write(json);
  return 0;
};
