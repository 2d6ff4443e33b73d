/**
 * The project's own Secrets Manager adapters, unchanged, over LocalSecretsManager and over moto: the main flows
 * of the SVID store (issue, reissue, retry, list, retire, restore) and of the synced-secret store (create, no-op
 * resync, change, going back to earlier content, removal, restore).
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { SecretsManagerApi } from '../../functions/shared/aws/clients';
import {
  SecretsManagerSecretStore,
  SYNCED_SECRET_TAG,
} from '../../functions/shared/ports/secret-store/secrets-manager-secret-store';
import { SecretsManagerSvidStore } from '../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import { SecretNotOwned, SvidUnavailable } from '../../functions/shared/domain/errors';
import { recordedChecksum } from '../../functions/shared/domain/keywhiz';
import {
  secretVersionToken,
  syncedSecretName,
  syncedSecretPrefix,
} from '../../functions/shared/domain/synced-secret-name';
import type { SecretWrite } from '../../functions/shared/ports/secret-store/secret-store';
import type { CurrentCertificate, SvidWrite } from '../../functions/shared/ports/svid-store/svid-store';
import type { StoredSvid } from '../../functions/shared/domain/svid-secret';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { certificateFacts } from '../../functions/shared/domain/svid-certificate';
import { TestTrustDomains } from '../support/test-svids';
import { awsOrMotoGap, type Backend, backendPair } from './backends';

const backends = backendPair<SecretsManagerApi, SecretsManagerClient>(
  { name: 'LocalSecretsManager', make: (options) => new LocalSecretsManager(options) },
  { make: (config) => new SecretsManagerClient(config) },
);

const DAY_MS = 24 * 3600 * 1000;
const KMS_KEY = 'alias/trust-bridge-svids';
const SVID_NAME = 'trust-bridge/svid/prod/payments';
const TOKEN_1 = 'issuance-1-0123456789abcdef0123456789ab';
const TOKEN_2 = 'issuance-2-0123456789abcdef0123456789ab';

const svidWrite = (issuanceToken: string, serial: string): SvidWrite => ({
  secretName: SVID_NAME,
  service: 'payments',
  environment: 'prod',
  accountId: '111122223333',
  readerRoles: ['payments-api'],
  issuanceToken,
  spiffeId: 'spiffe://example.org/prod/payments',
  serial,
  notAfter: '2030-01-02T00:00:00.000Z',
  secret: {
    spiffeID: 'spiffe://example.org/prod/payments',
    x509SVID: `-----BEGIN CERTIFICATE-----\nMIIB${serial}\n-----END CERTIFICATE-----\n`,
    x509SVIDKey: `-----BEGIN PRIVATE KEY-----\nMIGH${serial}\n-----END PRIVATE KEY-----\n`,
    bundle: '-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n',
    federatedBundles: {},
  },
});

/** A write of a real X509-SVID: the paths that read a stored version back need a certificate to read. */
let domains: TestTrustDomains;
let issued: SvidWrite;
beforeAll(async () => {
  domains = await TestTrustDomains.create({ ca: 'example.org' });
  const secret = await domains.secret('ca', 'spiffe://example.org/prod/payments');
  const { serial, notAfter } = certificateFacts(secret.x509SVID);
  issued = { ...svidWrite(TOKEN_2, serial), notAfter, secret };
});
afterAll(() => domains.close());

const PREFIX = syncedSecretPrefix('trust-bridge/secrets/', 'prod', 'payments');
const bytes = (s: string) => new TextEncoder().encode(s);
const secretWrite = (keywhizName: string, checksum: string, content: string): SecretWrite => ({
  secretName: syncedSecretName(PREFIX, keywhizName),
  keywhizName,
  service: 'payments',
  environment: 'prod',
  checksum,
  updateDate: '2024-05-01T10:00:00.000Z',
  content: bytes(content),
});

const near = (actualIso: string | undefined, expectedMs: number) => {
  const actual = Date.parse(actualIso ?? '');
  // moto keeps whole seconds; the calls themselves take a moment.
  expect(Math.abs(actual - expectedMs)).toBeLessThan(60_000);
};

describe.each(backends)('Secrets Manager adapters contract: $name', ({ open }) => {
  let backend: Backend<SecretsManagerApi>;
  let sm: SecretsManagerApi;
  beforeEach(async () => {
    backend = await open();
    sm = backend.client;
  });
  afterEach(() => backend.close());

  const stagesOf = async (SecretId: string) =>
    (await sm.send(new DescribeSecretCommand({ SecretId }))).VersionIdsToStages ?? {};

  describe('SecretsManagerSvidStore', () => {
    let store: SecretsManagerSvidStore;
    beforeEach(() => {
      store = new SecretsManagerSvidStore(sm, {
        kmsKeyId: KMS_KEY,
        issuerRoleArn: `arn:aws:iam::${backend.accountId}:role/trust-bridge-issue-svid`,
      });
    });

    test('put, find, read, a retried put, a reissue and a late retry of the first issuance', async () => {
      const first = svidWrite(TOKEN_1, '0a01');
      const { arn, versionId } = await store.put(first);
      expect(versionId).toBe(TOKEN_1);
      expect(arn).toContain(`:${backend.accountId}:secret:${SVID_NAME}-`);
      expect(await store.find(SVID_NAME, TOKEN_1)).toMatchObject({
        arn,
        serial: '0a01',
        spiffeId: first.spiffeId,
        accountId: '111122223333',
        writtenByToken: true,
      });
      expect(await store.read(SVID_NAME)).toEqual(first.secret);
      expect(await store.read(arn)).toEqual(first.secret);
      const policy = await sm.send(new GetResourcePolicyCommand({ SecretId: arn }));
      expect(JSON.parse(policy.ResourcePolicy ?? '{}').Statement).toHaveLength(2);
      const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      expect(described.KmsKeyId).toBe(KMS_KEY);

      // A retried issuance writes no second version.
      await store.put(first);
      expect(await stagesOf(arn)).toEqual({ [TOKEN_1]: ['AWSCURRENT'] });

      const second = svidWrite(TOKEN_2, '0a02');
      await store.put(second);
      expect(await stagesOf(arn)).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });
      expect(await store.read(SVID_NAME)).toEqual(second.secret);

      // The first issuance retried late changes nothing: the second stays current, with its tags.
      await store.put(first);
      expect(await stagesOf(arn)).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });
      expect(await store.find(SVID_NAME)).toMatchObject({ serial: '0a02' });
    });

    test('completeness is read from the listing: a finished write, a renewal whose tags were cut off, its repair', async () => {
      const first = svidWrite(TOKEN_1, '0a01');
      await store.put(first);
      const listed = async () => (await store.listOwned())[0];
      expect(await listed()).toMatchObject({ committed: true });
      expect(store.isComplete((await listed()) as StoredSvid, first)).toBe(true);
      expect(store.isComplete((await listed()) as StoredSvid, { ...first, readerRoles: ['other'] })).toBe(
        false,
      );

      // The renewal's value lands, its tags do not: the process dies before its TagResource.
      const second = issued;
      let valueWritten = false;
      const dying = {
        send: (command: object) => {
          if (command instanceof PutSecretValueCommand) valueWritten = true;
          if (valueWritten && command instanceof TagResourceCommand) {
            return Promise.reject(new Error('the process died here'));
          }
          return sm.send(command as never);
        },
      } as unknown as SecretsManagerApi;
      const cut = new SecretsManagerSvidStore(dying, {
        kmsKeyId: KMS_KEY,
        issuerRoleArn: `arn:aws:iam::${backend.accountId}:role/trust-bridge-issue-svid`,
      });
      await expect(cut.put(second)).rejects.toThrow('the process died here');
      expect(await listed()).toMatchObject({ serial: '0a01', committed: false });

      // No commit describes the current version: its value tells which certificate it holds.
      const found = await store.find(SVID_NAME);
      expect(found?.current).toEqual({
        versionId: TOKEN_2,
        spiffeId: second.spiffeId,
        serial: second.serial,
        notAfter: second.notAfter,
      });
      await expect(store.repair({ ...second, ...(found?.current as CurrentCertificate) })).resolves.toEqual({
        repaired: ['tags'],
      });
      expect(await listed()).toMatchObject({ serial: second.serial, committed: true });
      expect(await store.policy(SVID_NAME)).toContain('arn:aws:iam::111122223333:role/payments-api');
    });

    test("a renewal on the plan's listing takes PutSecretValue and TagResource, and is complete in the next listing", async () => {
      const first = svidWrite(TOKEN_1, '0a01');
      await store.put(first);
      const [listed] = await store.listOwned();
      const sent: string[] = [];
      const counting = new SecretsManagerSvidStore(
        {
          send: (command: object) => (sent.push(command.constructor.name), sm.send(command as never)),
        } as never,
        {
          kmsKeyId: KMS_KEY,
          issuerRoleArn: `arn:aws:iam::${backend.accountId}:role/trust-bridge-issue-svid`,
        },
      );
      await counting.put({ ...issued, listing: { svid: listed } });
      expect(sent).toEqual(['PutSecretValueCommand', 'TagResourceCommand']);
      const [after] = await store.listOwned();
      expect(after).toMatchObject({ serial: issued.serial, notAfter: issued.notAfter, committed: true });
      expect(store.isComplete(after as StoredSvid, issued)).toBe(true);
      expect(await store.read(SVID_NAME)).toEqual(issued.secret);
    });

    test('listOwned lists ours and leaves out a foreign secret, which put refuses to touch', async () => {
      await store.put(svidWrite(TOKEN_1, '0a01'));
      const foreign = 'trust-bridge/svid/prod/foreign';
      await sm.send(
        new CreateSecretCommand({
          Name: foreign,
          SecretString: 'not ours',
          Tags: [{ Key: 'trust-bridge:managed-by-someone', Value: 'else' }],
        }),
      );
      expect((await store.listOwned()).map((s) => s.secretName)).toEqual([SVID_NAME]);
      await expect(store.put({ ...svidWrite(TOKEN_1, '0a01'), secretName: foreign })).rejects.toBeInstanceOf(
        SecretNotOwned,
      );
      expect(await sm.send(new GetSecretValueCommand({ SecretId: foreign }))).toMatchObject({
        SecretString: 'not ours',
      });
    });

    test('retire schedules deletion, reads fail, a second retire answers the date; a new issuance restores', async () => {
      await store.put(svidWrite(TOKEN_1, '0a01'));
      const retired = await store.retire(SVID_NAME, 7);
      near(retired?.deletionDate, Date.now() + 7 * DAY_MS);
      expect((await store.find(SVID_NAME))?.deletedAt).toBeDefined();
      expect((await store.listOwned()).map((s) => s.secretName)).toEqual([SVID_NAME]);
      await expect(store.read(SVID_NAME)).rejects.toBeInstanceOf(SvidUnavailable);

      // Already scheduled: the date is DeletedDate plus the window, so moto's DeletedDate (already the end of
      // the window) puts it one window too far.
      const again = await store.retire(SVID_NAME, 7);
      const windows = awsOrMotoGap(backend.kind, 'secretsmanager.deleted-date', { aws: 1, moto: 2 });
      near(again?.deletionDate, Date.now() + windows * 7 * DAY_MS);

      const reissued = svidWrite(TOKEN_2, '0a02');
      await store.put(reissued);
      expect((await store.find(SVID_NAME))?.deletedAt).toBeUndefined();
      expect(await store.read(SVID_NAME)).toEqual(reissued.secret);
    });
  });

  describe('SecretsManagerSecretStore', () => {
    let store: SecretsManagerSecretStore;
    beforeEach(() => {
      store = new SecretsManagerSecretStore(sm, { kmsKeyId: KMS_KEY });
    });
    const only = async () => {
      const [synced, ...rest] = await store.listSynced(PREFIX);
      expect(rest).toEqual([]);
      return synced;
    };
    const currentValue = async (SecretId: string) =>
      (await sm.send(new GetSecretValueCommand({ SecretId, VersionStage: 'AWSCURRENT' }))).SecretString;

    test('the listing tells a write whose tags were cut off: its current version is not its checksum tag’s', async () => {
      const one = secretWrite('api-key', 'c1', 'one');
      await store.write(one);
      expect(await only()).toMatchObject({ checksum: recordedChecksum('c1'), complete: true });
      await sm.send(
        new PutSecretValueCommand({
          SecretId: one.secretName,
          ClientRequestToken: secretVersionToken('api-key', 'c2'),
          SecretString: 'two',
        }),
      );
      expect(await only()).toMatchObject({ checksum: recordedChecksum('c1'), complete: false });
      await store.write({ ...secretWrite('api-key', 'c2', 'two'), existing: await only() });
      expect(await only()).toMatchObject({ checksum: recordedChecksum('c2'), complete: true });
    });

    test('create, a no-op resync, a change, and going back to the first content', async () => {
      const one = secretWrite('db-password', 'c1', 'one');
      const created = await store.write(one);
      expect(created).toMatchObject({
        created: true,
        restored: false,
        versionId: secretVersionToken('db-password', 'c1'),
      });
      expect(await only()).toMatchObject({
        secretName: one.secretName,
        arn: created.arn,
        keywhizName: 'db-password',
        checksum: recordedChecksum('c1'),
        updateDate: one.updateDate,
      });

      await store.write({ ...one, existing: await only() });
      expect(Object.keys(await stagesOf(created.arn))).toHaveLength(1);

      const two = secretWrite('db-password', 'c2', 'two');
      await store.write({ ...two, existing: await only() });
      expect(await currentValue(created.arn)).toBe('two');
      expect((await only())?.checksum).toBe(recordedChecksum('c2'));

      // Keywhiz went back to the first content: its version exists, and becomes current again.
      await store.write({ ...one, existing: await only() });
      const stages = await stagesOf(created.arn);
      expect(stages[secretVersionToken('db-password', 'c1')]).toEqual(['AWSCURRENT']);
      // c2 keeps the label it was written under: a write that already exists moves no label.
      expect(stages[secretVersionToken('db-password', 'c2')]).toEqual([
        'TRUST_BRIDGE_PENDING',
        'AWSPREVIOUS',
      ]);
      expect(await currentValue(created.arn)).toBe('one');
      expect((await only())?.checksum).toBe(recordedChecksum('c1'));
      const tags = (await sm.send(new DescribeSecretCommand({ SecretId: created.arn }))).Tags ?? [];
      expect(tags.find((t) => t.Key === SYNCED_SECRET_TAG.keywhizChecksum)?.Value).toBe(
        recordedChecksum('c1'),
      );
    });

    test('a write that another made stale is not made current: SecretWriteRaced, and the newer content stays', async () => {
      const created = await store.write(secretWrite('db-password', 'c1', 'one'));
      // Two overlapping syncs read the store while c1 was current; the one with newer content finishes first.
      const seenByBoth = await only();
      await store.write({ ...secretWrite('db-password', 'c3', 'three'), existing: seenByBoth });
      await expect(
        store.write({ ...secretWrite('db-password', 'c2', 'two'), existing: seenByBoth }),
      ).rejects.toMatchObject({ name: 'SecretWriteRaced' });
      expect(await currentValue(created.arn)).toBe('three');
      expect(await only()).toMatchObject({ checksum: recordedChecksum('c3'), complete: true });
      // Its retry starts from a fresh listing: what it writes then is current.
      await store.write({ ...secretWrite('db-password', 'c4', 'four'), existing: await only() });
      expect(await currentValue(created.arn)).toBe('four');
    });

    test('binary content is written as SecretBinary and read back byte for byte', async () => {
      const content = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
      const { arn } = await store.write({ ...secretWrite('keystore', 'k1', ''), content });
      const value = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
      expect(value.SecretString).toBeUndefined();
      expect([...(value.SecretBinary ?? [])]).toEqual([...content]);
    });

    test('remove schedules deletion; a write restores it, with or without the listing', async () => {
      const one = secretWrite('api-key', 'a1', 'key one');
      await store.write(one);
      const listed = await only();
      const removed = await store.remove(listed as NonNullable<typeof listed>, 7);
      near(removed.deletionDate, Date.now() + 7 * DAY_MS);
      expect((await only())?.deletedAt).toBeDefined();

      const restored = await store.write({ ...one, existing: await only() });
      expect(restored).toMatchObject({ created: false, restored: true });
      expect((await only())?.deletedAt).toBeUndefined();
      expect(await currentValue(restored.arn)).toBe('key one');

      // Without the listing the create meets the name (InvalidRequestException on AWS, ResourceExistsException on
      // moto: the adapter takes both) and restores the secret.
      await store.remove((await only()) as NonNullable<Awaited<ReturnType<typeof only>>>, 7);
      const again = await store.write(secretWrite('api-key', 'a2', 'key two'));
      expect(again).toMatchObject({ created: false, restored: true });
      expect(await currentValue(again.arn)).toBe('key two');
    });
  });
});
