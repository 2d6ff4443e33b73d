import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecretCommand, GetResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { SecretsManagerApi } from '../../../../../functions/shared/aws/clients';
import { SecretsManagerSvidStore } from '../../../../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import type { SvidWrite } from '../../../../../functions/shared/ports/svid-store/svid-store';
import type { SecretsManagerOperation } from '../../../../../bench/secrets-manager-probe';
import { LocalSecretsManager } from '../../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';

/**
 * Every SVID write cut off between two of its Secrets Manager calls (a Lambda timeout, a SIGKILL of the local
 * stack: the stand-in writes each call whole, so both leave what the calls before the cut wrote), then run
 * again: it must end exactly as an uninterrupted write, and look unfinished until then.
 */

const ISSUER = 'arn:aws:iam::000000000000:role/trust-bridge-issue-svid';
const NAME = 'trust-bridge/svid/prod/payments';
const FIRST = '11111111-1111-4111-8111-111111111111';
const SECOND = '22222222-2222-4222-8222-222222222222';

const write = (overrides: Partial<SvidWrite> = {}): SvidWrite => ({
  secretName: NAME,
  service: 'payments',
  environment: 'prod',
  accountId: '111122223333',
  readerRoles: ['payments-api'],
  issuanceToken: FIRST,
  spiffeId: 'spiffe://example.org/prod/payments',
  serial: '0a',
  notAfter: '2030-01-02T00:00:00.000Z',
  secret: {
    spiffeID: 'spiffe://example.org/prod/payments',
    x509SVID: '-----BEGIN CERTIFICATE-----\nMIIBfirst\n-----END CERTIFICATE-----\n',
    x509SVIDKey: '-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n',
    bundle: '-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n',
    federatedBundles: {},
  },
  ...overrides,
});
const renewal = (overrides: Partial<SvidWrite> = {}) =>
  write({
    issuanceToken: SECOND,
    serial: '0b',
    notAfter: '2030-01-03T00:00:00.000Z',
    secret: {
      ...write().secret,
      x509SVID: '-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----\n',
    },
    ...overrides,
  });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A store whose process dies at the `nth` next call of an operation, before that call is sent. */
const open = () => {
  const dir = mkdtempSync(join(tmpdir(), 'svid-converge-'));
  dirs.push(dir);
  const local = new LocalSecretsManager({ dataDir: dir, accountId: '000000000000' });
  let trap: { operation: SecretsManagerOperation; skip: number } | undefined;
  const client = {
    send: (command: object) => {
      if (trap && command.constructor.name === `${trap.operation}Command`) {
        if (trap.skip === 0) {
          trap = undefined;
          return Promise.reject(killed());
        }
        trap.skip -= 1;
      }
      return local.send(command as never);
    },
  } as unknown as SecretsManagerApi;
  const cutAt = (operation: SecretsManagerOperation, nth = 1) => {
    trap = { operation, skip: nth - 1 };
  };
  return {
    local,
    cutAt,
    store: new SecretsManagerSvidStore(client, { kmsKeyId: 'alias/svids', issuerRoleArn: ISSUER }),
  };
};

/** What a reader and the plan rely on: the policy, every tag, the versions and which one is current. */
const snapshot = async (local: LocalSecretsManager) => {
  const described = await local.send(new DescribeSecretCommand({ SecretId: NAME }));
  const { ResourcePolicy } = await local.send(new GetResourcePolicyCommand({ SecretId: NAME }));
  return {
    policy: ResourcePolicy,
    tags: Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value])),
    versions: described.VersionIdsToStages,
  };
};

/** The writes run uninterrupted in a fresh store. */
const reference = async (steps: (store: SecretsManagerSvidStore) => Promise<unknown>) => {
  const { local, store } = open();
  await steps(store);
  return snapshot(local);
};

const killed = () => Object.assign(new Error('the process died here'), { name: 'Killed' });

/** The SVID as the next plan sees it from the listing alone. */
const listedComplete = async (store: SecretsManagerSvidStore, placement: SvidWrite) => {
  const [svid] = await store.listOwned();
  return svid !== undefined && store.isComplete(svid, placement);
};

describe('a first write cut off between two calls', () => {
  test.each<SecretsManagerOperation>(['PutResourcePolicy', 'TagResource'])(
    'cut before %s: looks unfinished, and its retry ends exactly as an uninterrupted write',
    async (cut) => {
      const { local, store, cutAt } = open();
      cutAt(cut);
      await expect(store.put(write())).rejects.toThrow('the process died here');
      expect(await listedComplete(store, write())).toBe(false);

      await store.put(write());

      expect(await snapshot(local)).toEqual(await reference((s) => s.put(write())));
      expect(await listedComplete(store, write())).toBe(true);
    },
  );
});

describe('a renewal cut off between two calls', () => {
  const more = { readerRoles: ['payments-api', 'payments-worker'] };
  test.each<[string, Partial<SvidWrite>, SecretsManagerOperation, number, boolean]>([
    ['same readers, cut before PutSecretValue (the pending record written)', {}, 'PutSecretValue', 1, false],
    ['same readers, cut before the last TagResource', {}, 'TagResource', 2, true],
    ['new readers, cut before PutResourcePolicy', more, 'PutResourcePolicy', 1, true],
    [
      'new readers, cut before the last TagResource',
      { readerRoles: ['payments-worker'] },
      'TagResource',
      2,
      true,
    ],
  ])(
    '%s: the retry makes no third version and ends as an uninterrupted write',
    async (_, change, cut, nth, unfinished) => {
      const { local, store, cutAt } = open();
      await store.put(write());
      cutAt(cut, nth);
      await expect(store.put(renewal(change))).rejects.toThrow('the process died here');
      // Before the value lands the first SVID is still whole; after it, nothing vouches for the tags.
      expect(await listedComplete(store, write())).toBe(!unfinished);

      await store.put(renewal(change));

      const expected = await reference(async (s) => {
        await s.put(write());
        await s.put(renewal(change));
      });
      expect(await snapshot(local)).toEqual(expected);
      expect(Object.keys((await snapshot(local)).versions ?? {})).toHaveLength(2);
      expect(await listedComplete(store, renewal(change))).toBe(true);
    },
  );
});

describe('repair: the current version kept, its policy and tags rewritten', () => {
  const repairOf = (w: SvidWrite) => ({
    secretName: w.secretName,
    service: w.service,
    environment: w.environment,
    accountId: w.accountId,
    readerRoles: w.readerRoles,
    versionId: w.issuanceToken,
    spiffeId: w.spiffeId,
    serial: w.serial,
    notAfter: w.notAfter,
  });

  test('new readers on a complete SVID: the commit goes first, so a repair cut off at any point looks unfinished', async () => {
    const readers = write({ readerRoles: ['payments-worker'] });
    for (const cut of ['PutResourcePolicy', 'TagResource'] as const) {
      const { local, store, cutAt } = open();
      await store.put(write());
      expect(await listedComplete(store, readers)).toBe(false);
      cutAt(cut);
      await expect(store.repair(repairOf(readers))).rejects.toThrow('the process died here');
      // Even after the new policy landed, nothing vouches for it: the plan must not take it as done.
      expect(await listedComplete(store, readers)).toBe(false);
      expect(await listedComplete(store, write())).toBe(false);

      await expect(store.repair(repairOf(readers))).resolves.toEqual({
        repaired: cut === 'PutResourcePolicy' ? ['policy', 'tags'] : ['tags'],
      });
      expect(await snapshot(local)).toEqual(await reference((s) => s.put(readers)));
      expect(await listedComplete(store, readers)).toBe(true);
    }
  });

  test('a value written and never tagged gets the tags of its own certificate, and no version', async () => {
    const { local, store, cutAt } = open();
    await store.put(write());
    cutAt('TagResource', 2);
    await expect(store.put(renewal())).rejects.toThrow('the process died here');
    // What the tags still say is the first certificate's: the plan would have trusted it.
    expect((await store.listOwned())[0]?.serial).toBe('0a');
    // The pending record, written before the value, names the second: no need to read the value.
    expect((await store.find(NAME))?.current).toMatchObject({ versionId: SECOND, serial: '0b' });

    await expect(store.repair(repairOf(renewal()))).resolves.toEqual({ repaired: ['tags'] });
    await expect(store.repair(repairOf(renewal()))).resolves.toEqual({ repaired: [] });

    expect((await store.listOwned())[0]?.serial).toBe('0b');
    expect(await snapshot(local)).toEqual(
      await reference(async (s) => {
        await s.put(write());
        await s.put(renewal());
      }),
    );
  });

  test('a repair of a version no longer current writes nothing', async () => {
    const { local, store } = open();
    await store.put(write());
    await store.put(renewal());
    const before = await snapshot(local);
    await expect(store.repair(repairOf(write()))).resolves.toEqual({ repaired: [] });
    expect(await snapshot(local)).toEqual(before);
  });
});
