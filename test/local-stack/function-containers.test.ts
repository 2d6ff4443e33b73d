import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { probeAcmPca } from '../../bench/acm-pca-probe';
import { InvalidConfiguration } from '../../functions/shared/domain/errors';
import { createLocalStack } from '../../local-stack/stack';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'function-containers-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const fleet = (accounts: number) => {
  const enrollments = Array.from({ length: accounts }, (_, i) => ({
    service: `service-${i}`,
    environment: 'prod',
    accountId: String(400_000_000_000 + i),
    identity: true,
    secrets: true,
  }));
  const enrollmentsPath = join(dir, 'enrollments.json');
  writeFileSync(enrollmentsPath, JSON.stringify({ enrollments }));
  const keywhizDir = join(dir, 'keywhiz');
  for (const { service } of enrollments) {
    mkdirSync(join(keywhizDir, service), { recursive: true });
    writeFileSync(join(keywhizDir, service, 'Database_Password'), `${service} password`);
  }
  return { enrollmentsPath, keywhizDir, enrollments };
};

describe('function containers', () => {
  it('run the per-account steps in worker threads over the same data directory: rotation and sync end as in process', async () => {
    const { enrollmentsPath, keywhizDir, enrollments } = fleet(12);
    const stack = await createLocalStack({
      dataDir: join(dir, 'data'),
      enrollmentsPath,
      keywhizDir,
      functionContainers: 2,
    });
    try {
      // The stack's own CA stand-in is never called: the containers issue with theirs.
      const calls = probeAcmPca(stack.services.pca).calls;
      const rotation = await stack.rotate();
      expect(rotation).toMatchObject({ status: 'SUCCEEDED', output: { issued: 12, failed: 0 } });
      expect(calls.IssueCertificate).toBe(0);
      const sync = await stack.sync();
      expect(sync).toMatchObject({ status: 'SUCCEEDED', output: { synced: 12, failed: 0 } });
      for (const { accountId, service } of enrollments) {
        const store = stack.services.accountSecretsManager(accountId);
        const { SecretString } = await store.send(
          new GetSecretValueCommand({ SecretId: `trust-bridge/keywhiz/prod/${service}/Database_Password` }),
        );
        expect(SecretString).toBe(`${service} password`);
      }
      // A rerun inside the renewal window finds every SVID the containers stored.
      expect(await stack.rotate()).toMatchObject({ status: 'SUCCEEDED', output: { issued: 0, skipped: 12 } });
    } finally {
      await stack.close();
    }
    // The containers' stores kept spare inodes for their writes (spare-inodes.ts); closing removed them.
    expect(readdirSync(join(dir, 'data', 'secretsmanager', '.spares'))).toEqual([]);
  }, 60_000);

  it('refuse what only an in-process step can be given', async () => {
    const { enrollmentsPath } = fleet(1);
    await expect(
      createLocalStack({
        dataDir: join(dir, 'data'),
        enrollmentsPath,
        functionContainers: 1,
        now: () => new Date(),
      }),
    ).rejects.toThrow(InvalidConfiguration);
  });
});
