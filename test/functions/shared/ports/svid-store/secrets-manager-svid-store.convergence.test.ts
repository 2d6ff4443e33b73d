import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecretCommand, GetResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { SecretsManagerApi } from '../../../../../functions/shared/aws/clients';
import { SecretsManagerSvidStore } from '../../../../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import type { SvidWrite } from '../../../../../functions/shared/ports/svid-store/svid-store';
import type { SpireSvidSecret } from '../../../../../client/spiffe/spire-secret';
import { certificateFacts } from '../../../../../functions/shared/domain/svid-certificate';
import { TestTrustDomains } from '../../../../support/test-svids';
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

/** Two real X509-SVIDs: a write cut off after its value is finished from the certificate that value holds. */
let domains: TestTrustDomains;
const issued: { secret: SpireSvidSecret; serial: string; notAfter: string }[] = [];
beforeAll(async () => {
  domains = await TestTrustDomains.create({ ca: 'example.org' });
  for (const hoursAgo of [2, 1]) {
    const notBefore = new Date(Date.now() - hoursAgo * 3_600_000);
    const secret = await domains.secret('ca', 'spiffe://example.org/prod/payments', { notBefore });
    issued.push({ secret, ...certificateFacts(secret.x509SVID) });
  }
});
afterAll(() => domains.close());

const svidOf = (n: 0 | 1) => {
  const { secret, serial, notAfter } = issued[n] as (typeof issued)[number];
  return { secret, serial, notAfter };
};
const write = (overrides: Partial<SvidWrite> = {}): SvidWrite => ({
  secretName: NAME,
  service: 'payments',
  environment: 'prod',
  accountId: '111122223333',
  readerRoles: ['payments-api'],
  issuanceToken: FIRST,
  spiffeId: 'spiffe://example.org/prod/payments',
  ...svidOf(0),
  ...overrides,
});
const renewal = (overrides: Partial<SvidWrite> = {}) =>
  write({ issuanceToken: SECOND, ...svidOf(1), ...overrides });

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
  test.each<[string, Partial<SvidWrite>, SecretsManagerOperation, boolean, boolean]>([
    ['same readers, cut before PutSecretValue', {}, 'PutSecretValue', false, false],
    ['same readers, cut before TagResource', {}, 'TagResource', true, false],
    ["on the plan's listing, cut before PutSecretValue", {}, 'PutSecretValue', false, true],
    ["on the plan's listing, cut before TagResource", {}, 'TagResource', true, true],
    ['new readers, cut before PutResourcePolicy', more, 'PutResourcePolicy', true, false],
    ['new readers, cut before TagResource', { readerRoles: ['payments-worker'] }, 'TagResource', true, false],
  ])(
    '%s: the retry makes no third version and ends as an uninterrupted write',
    async (_, change, cut, unfinished, fromListing) => {
      const { local, store, cutAt } = open();
      await store.put(write());
      // A Step Functions retry sends the same item again: the listing the plan took before the first attempt.
      const [listed] = fromListing ? await store.listOwned() : [];
      const attempt = () => store.put({ ...renewal(change), ...(listed && { listing: { svid: listed } }) });
      cutAt(cut);
      await expect(attempt()).rejects.toThrow('the process died here');
      // Before the value lands the first SVID is still whole; after it, nothing vouches for the tags.
      expect(await listedComplete(store, write())).toBe(!unfinished);

      await attempt();

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

describe("a renewal on the plan's listing, cut off after its value, retried with a certificate of its own", () => {
  test('the stored version keeps its certificate and gets its tags; no second version, the stored serial reported', async () => {
    const { local, store, cutAt } = open();
    await store.put(write());
    const [listed] = await store.listOwned();
    cutAt('TagResource');
    await expect(store.put({ ...renewal(), listing: { svid: listed } })).rejects.toThrow(
      'the process died here',
    );

    // The retry generated a new key, so the CA gave it another certificate (here: the first one's, for contrast).
    const retry = { ...renewal(), ...svidOf(0), listing: { svid: listed } };
    await expect(store.put(retry)).resolves.toMatchObject({ versionId: SECOND, serial: renewal().serial });

    expect(await snapshot(local)).toEqual(
      await reference(async (s) => {
        await s.put(write());
        await s.put(renewal());
      }),
    );
    expect(await listedComplete(store, renewal())).toBe(true);
  });
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
    cutAt('TagResource');
    await expect(store.put(renewal())).rejects.toThrow('the process died here');
    // What the tags still say is the first certificate's: the plan would have trusted it.
    expect((await store.listOwned())[0]?.serial).toBe(write().serial);
    // No commit describes the current version: its value tells which certificate it holds.
    expect((await store.find(NAME))?.current).toMatchObject({ versionId: SECOND, serial: renewal().serial });

    await expect(store.repair(repairOf(renewal()))).resolves.toEqual({ repaired: ['tags'] });
    await expect(store.repair(repairOf(renewal()))).resolves.toEqual({ repaired: [] });

    expect((await store.listOwned())[0]?.serial).toBe(renewal().serial);
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
