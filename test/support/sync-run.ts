import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from '@aws-sdk/client-secrets-manager';
import { probeSecretsManager } from '../../bench/secrets-manager-probe';
import { syncedSecretName, syncedSecretPrefix } from '../../functions/shared/domain/synced-secret-name';
import type { LocalStackOptions } from '../../local-stack/stack';
import { enrollment, startLocalStack } from './local-run';

/** The sample tree (samples/keywhiz) and the accounts samples/enrollments.yaml gives its two services. */
export const SAMPLE_KEYWHIZ_DIR = fileURLToPath(new URL('../../samples/keywhiz', import.meta.url));
export const PAYMENTS = { accountId: '111122223333', service: 'payments' } as const;
export const LEDGER = { accountId: '777788889999', service: 'ledger' } as const;
/** Identity only, no secrets: its account must never see a sync. */
export const SEARCH = { accountId: '012345678901', service: 'search' } as const;
export type SyncedService = typeof PAYMENTS | typeof LEDGER;

export const SAMPLE_SECRETS: Record<SyncedService['service'], string[]> = {
  payments: ['Database_Password', 'General_Password..0be68f903f8b7d86', 'stripe-api-key'],
  ledger: ['ledger.pgpass', 'signing-key.der'],
};

/** Operations on an account's Secrets Manager that change it. */
const WRITES = [
  'CreateSecret',
  'PutSecretValue',
  'TagResource',
  'UntagResource',
  'DeleteSecret',
  'RestoreSecret',
  'UpdateSecretVersionStage',
];

export interface SyncStackOptions extends Partial<
  Pick<LocalStackOptions, 'env' | 'logLevel' | 'onStatePayload' | 'decorate' | 'webhookSyncConcurrency'>
> {
  /** Edits the copy of the sample tree before the stack starts serving it. */
  prepare?: (keywhizDir: string) => void;
}

/**
 * A local stack serving a copy of the sample Keywhiz tree (payments and ledger with secrets, search with an
 * identity only), SVIDs already issued so each agent can show Keywhiz its service's SVID.
 */
export async function startSyncStack(options: SyncStackOptions = {}) {
  const keywhizDir = mkdtempSync(join(tmpdir(), 'trust-bridge-keywhiz-'));
  cpSync(SAMPLE_KEYWHIZ_DIR, keywhizDir, { recursive: true });
  rmSync(join(keywhizDir, 'README.md'));
  options.prepare?.(keywhizDir);
  const { prepare: _prepare, ...stackOptions } = options;
  const run = await startLocalStack(
    [
      enrollment(PAYMENTS.accountId, PAYMENTS.service, { secrets: true }),
      enrollment(LEDGER.accountId, LEDGER.service, { secrets: true }),
      enrollment(SEARCH.accountId, SEARCH.service),
    ],
    { keywhizDir, ...stackOptions },
  );
  const { stack } = run;
  const rotation = await stack.rotate();
  if (rotation.status !== 'SUCCEEDED') {
    await stack.close();
    throw new Error(`the SVID rotation before the sync failed: ${rotation.error} ${rotation.cause}`);
  }
  const keywhiz = stack.services.keywhiz;
  if (!keywhiz) throw new Error('the stack serves no Keywhiz directory');

  const store = (accountId: string) => stack.services.accountSecretsManager(accountId);
  /** An account store's probe: its calls from the first ask on, and the failures to inject into it. */
  const probe = (accountId: string) => probeSecretsManager(store(accountId));
  const nameOf = (target: SyncedService, keywhizName: string) =>
    syncedSecretName(
      syncedSecretPrefix(stack.config.SYNC_SECRET_PREFIX, 'prod', target.service),
      keywhizName,
    );
  const pathOf = (target: SyncedService, keywhizName: string) =>
    join(keywhizDir, target.service, keywhizName);
  let keywhizClosed = false;

  return {
    ...run,
    keywhizDir,
    keywhiz,
    store,
    probe,
    nameOf,
    pathOf,
    writeSecret: (target: SyncedService, keywhizName: string, content: string | Uint8Array) =>
      writeFileSync(pathOf(target, keywhizName), content),
    removeSecret: (target: SyncedService, keywhizName: string) => rmSync(pathOf(target, keywhizName)),
    /** The secret's current value (AWSCURRENT) in the target's account. */
    value: async (target: SyncedService, keywhizName: string) => {
      const got = await store(target.accountId).send(
        new GetSecretValueCommand({ SecretId: nameOf(target, keywhizName) }),
      );
      return {
        string: got.SecretString,
        binary: got.SecretBinary ? Buffer.from(got.SecretBinary) : undefined,
        versionId: got.VersionId,
      };
    },
    describe: (target: SyncedService, keywhizName: string) =>
      store(target.accountId).send(new DescribeSecretCommand({ SecretId: nameOf(target, keywhizName) })),
    /** How many versions the secret has (Secrets Manager keeps them all here, well under its limit). */
    versionCount: async (target: SyncedService, keywhizName: string) => {
      const described = await store(target.accountId).send(
        new DescribeSecretCommand({ SecretId: nameOf(target, keywhizName) }),
      );
      return Object.keys(described.VersionIdsToStages ?? {}).length;
    },
    /** Every secret name in an account, those scheduled for deletion included. */
    secretNames: async (accountId: string) => {
      const names: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await store(accountId).send(
          new ListSecretsCommand({ IncludePlannedDeletion: true, MaxResults: 100, NextToken }),
        );
        names.push(...(page.SecretList ?? []).map((s) => s.Name ?? ''));
        NextToken = page.NextToken;
      } while (NextToken);
      return names.sort();
    },
    /** Calls of each operation so far on an account's store, to diff around a run. */
    calls: (accountId: string) => ({ ...probe(accountId).calls }),
    /** A copy of Keywhiz's request counters, to diff around a run. */
    keywhizRequests: () => ({ ...keywhiz.requests }),
    /** Every file of an account's store with a digest of its bytes: equal snapshots, nothing changed. */
    storeSnapshot: (accountId: string) => snapshot(join(run.dataDir, 'secretsmanager', accountId)),
    /** Stops the Keywhiz dev server now (Keywhiz down); close() then leaves it alone. */
    stopKeywhiz: async () => {
      keywhizClosed = true;
      await keywhiz.close();
    },
    close: async () => {
      await stack.settled();
      if (!keywhizClosed) await stack.close();
    },
  };
}

export type SyncStack = Awaited<ReturnType<typeof startSyncStack>>;

/** Calls that changed a store, summed over the operations that write. */
export const writesBetween = (before: Record<string, number>, after: Record<string, number>): number =>
  WRITES.reduce((total, op) => total + (after[op] ?? 0) - (before[op] ?? 0), 0);

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    let entries: string[];
    try {
      entries = readdirSync(at);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files[path.slice(dir.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return files;
}
