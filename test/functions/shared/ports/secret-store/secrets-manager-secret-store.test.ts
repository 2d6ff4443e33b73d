import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  SecretsManagerSecretStore,
  SYNCED_SECRET_TAG,
} from '../../../../../functions/shared/ports/secret-store/secrets-manager-secret-store';
import {
  SecretNotOwned,
  SecretTooLarge,
  StoreThrottled,
} from '../../../../../functions/shared/domain/errors';
import { type KeywhizSecretInfo, recordedChecksum } from '../../../../../functions/shared/domain/keywhiz';
import { reconcile } from '../../../../../functions/sync-agent/reconcile';
import {
  secretVersionToken,
  syncedSecretName,
  syncedSecretPrefix,
} from '../../../../../functions/shared/domain/synced-secret-name';
import { probeSecretsManager, type SecretsManagerProbe } from '../../../../../bench/secrets-manager-probe';
import { LocalSecretsManager } from '../../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import type {
  SecretWrite,
  SyncedSecret,
} from '../../../../../functions/shared/ports/secret-store/secret-store';

const ACCOUNT = '111122223333';
const PREFIX = syncedSecretPrefix('trust-bridge/secrets/', 'prod', 'payments');
const bytes = (s: string) => new TextEncoder().encode(s);

const secretWrite = (keywhizName: string, overrides: Partial<SecretWrite> = {}): SecretWrite => ({
  secretName: syncedSecretName(PREFIX, keywhizName),
  keywhizName,
  service: 'payments',
  environment: 'prod',
  checksum: `${keywhizName}-checksum-1`,
  updateDate: '2024-05-01T10:00:00.000Z',
  content: bytes(`value of ${keywhizName}`),
  ...overrides,
});

const throttled = (name = 'ThrottlingException') =>
  new SecretsManagerServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

describe('on the local Secrets Manager', () => {
  let dataDir: string;
  let sm: LocalSecretsManager;
  let probe: SecretsManagerProbe;
  let store: SecretsManagerSecretStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'secret-store-'));
    sm = new LocalSecretsManager({ dataDir, accountId: ACCOUNT });
    probe = probeSecretsManager(sm);
    store = new SecretsManagerSecretStore(sm, { kmsKeyId: 'alias/trust-bridge-secrets' });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const current = (secretName: string) => sm.send(new GetSecretValueCommand({ SecretId: secretName }));
  const describeSecret = (secretName: string) => sm.send(new DescribeSecretCommand({ SecretId: secretName }));
  const tagsOf = async (secretName: string) =>
    Object.fromEntries(((await describeSecret(secretName)).Tags ?? []).map((t) => [t.Key, t.Value]));
  const only = async (): Promise<SyncedSecret> => {
    const [synced, ...rest] = await store.listSynced(PREFIX);
    expect(rest).toEqual([]);
    return synced as SyncedSecret;
  };

  test('creates a secret with the value, our key, a version per (name, checksum), and every tag', async () => {
    const w = secretWrite('General_Password..0be68f903f8b7d86');
    const result = await store.write(w);

    const token = secretVersionToken(w.keywhizName, w.checksum);
    expect(result).toEqual({
      arn: expect.stringContaining(w.secretName),
      versionId: token,
      created: true,
      restored: false,
    });
    const value = await current(w.secretName);
    expect(value).toMatchObject({
      SecretString: 'value of General_Password..0be68f903f8b7d86',
      VersionId: token,
    });
    expect(value.SecretBinary).toBeUndefined();
    expect((await describeSecret(w.secretName)).KmsKeyId).toBe('alias/trust-bridge-secrets');
    expect(await tagsOf(w.secretName)).toEqual({
      'trust-bridge:managed-by': 'trust-bridge',
      'trust-bridge:keywhiz-checksum': w.checksum,
      'trust-bridge:keywhiz-updated': '2024-05-01T10:00:00.000Z',
      'trust-bridge:service': 'payments',
      'trust-bridge:environment': 'prod',
    });
  });

  test('lists what it wrote from tags alone: name, checksum, updateDate; no value read', async () => {
    const w = secretWrite('db:password');
    const { arn } = await store.write(w);
    const before = { ...probe.calls };

    expect(await store.listSynced(PREFIX)).toEqual([
      {
        secretName: `${PREFIX}db+3Apassword`,
        arn,
        keywhizName: 'db:password',
        checksum: w.checksum,
        updateDate: '2024-05-01T10:00:00.000Z',
        complete: true,
        currentVersionId: secretVersionToken('db:password', w.checksum),
      },
    ]);
    expect(probe.calls).toEqual({ ...before, ListSecrets: (before.ListSecrets ?? 0) + 1 });
  });

  test('a changed write makes a new version and updates the checksum and date tags', async () => {
    const first = secretWrite('api-key');
    await store.write(first);
    const changed = secretWrite('api-key', {
      checksum: 'api-key-checksum-2',
      updateDate: '2024-06-01T00:00:00.000Z',
      content: bytes('rotated'),
      existing: await only(),
    });

    const result = await store.write(changed);

    const token = secretVersionToken('api-key', 'api-key-checksum-2');
    expect(result).toMatchObject({ versionId: token, created: false, restored: false });
    expect(await current(changed.secretName)).toMatchObject({ SecretString: 'rotated', VersionId: token });
    expect((await describeSecret(changed.secretName)).VersionIdsToStages).toEqual({
      // Written under a label of its own, then made current.
      [token]: ['TRUST_BRIDGE_PENDING', 'AWSCURRENT'],
      [secretVersionToken('api-key', first.checksum)]: ['AWSPREVIOUS'],
    });
    expect(await only()).toMatchObject({
      checksum: 'api-key-checksum-2',
      updateDate: '2024-06-01T00:00:00.000Z',
    });
  });

  test('the same write twice (a retry or replay) makes one version', async () => {
    const w = secretWrite('api-key');
    await store.write(w);
    await store.write({ ...w, existing: await only() });
    // A retried create whose answer was lost: Secrets Manager ignores a create with the same token and value.
    const again = await store.write(w);

    expect(again).toMatchObject({ versionId: secretVersionToken('api-key', w.checksum), restored: false });
    expect(Object.keys((await describeSecret(w.secretName)).VersionIdsToStages ?? {})).toEqual([
      secretVersionToken('api-key', w.checksum),
    ]);
  });

  test('content that goes back to an earlier revision becomes current again', async () => {
    const one = secretWrite('flag', { checksum: 'c1', content: bytes('one') });
    await store.write(one);
    await store.write({ ...one, checksum: 'c2', content: bytes('two'), existing: await only() });
    await store.write({ ...one, existing: await only() });

    expect(await current(one.secretName)).toMatchObject({ SecretString: 'one' });
    expect(await only()).toMatchObject({ checksum: 'c1' });
  });

  test('content without a date drops the date of the content it replaces', async () => {
    const w = secretWrite('legacy');
    await store.write(w);
    const { updateDate: _, ...undated } = { ...w, checksum: 'c2', content: bytes('two') };
    await store.write({ ...undated, existing: await only() });
    expect((await only()).updateDate).toBeUndefined();
  });

  test('content without a date replaces a dated one in one tag call: no cut leaves the older date standing', async () => {
    const w = secretWrite('legacy');
    await store.write(w);
    const { updateDate: _, ...undated } = { ...w, checksum: 'c2', content: bytes('two') };
    // A second tag call would be the point a cut-off write leaves the older date beside the new checksum.
    probe.failNext('UntagResource', Object.assign(new Error('the process died here'), { name: 'Killed' }));
    await store.write({ ...undated, existing: await only() });
    expect(await only()).toMatchObject({ checksum: 'c2', complete: true });
    expect((await only()).updateDate).toBeUndefined();
  });

  describe('a write cut off between two calls', () => {
    const killed = () => Object.assign(new Error('the process died here'), { name: 'Killed' });
    const listing = (w: SecretWrite): KeywhizSecretInfo[] => [
      {
        name: w.keywhizName,
        checksum: w.checksum,
        updateDate: w.updateDate as string,
        secretLength: 3,
        metadata: {},
      },
    ];

    test('value written, tags not: the listing marks it incomplete, so it is written again, not taken as unchanged', async () => {
      const one = secretWrite('flag', { checksum: 'c1', content: bytes('one') });
      const two = { ...one, checksum: 'c2', content: bytes('two'), updateDate: '2024-05-02T10:00:00.000Z' };
      await store.write(one);
      probe.failNext('TagResource', killed());
      await expect(store.write({ ...two, existing: await only() })).rejects.toThrow('the process died here');
      // The content is two's; its tags still say one's.
      expect(await current(one.secretName)).toMatchObject({ SecretString: 'two' });
      expect(await only()).toMatchObject({ checksum: 'c1', complete: false });

      // Keywhiz went back to one: the checksum tag agrees, but only a complete secret counts as unchanged.
      const plan = reconcile(listing(one), await store.listSynced(PREFIX), PREFIX);
      expect(plan.unchanged).toBe(0);
      expect(plan.fetch.map((f) => f.keywhizName)).toEqual(['flag']);

      await store.write({ ...one, existing: await only() });
      expect(await current(one.secretName)).toMatchObject({ SecretString: 'one' });
      expect(await only()).toMatchObject({ checksum: 'c1', complete: true });
      expect(reconcile(listing(one), await store.listSynced(PREFIX), PREFIX).unchanged).toBe(1);
    });

    test('the same write again finishes it, with no second version', async () => {
      const one = secretWrite('token', { checksum: 'c1' });
      const two = { ...one, checksum: 'c2', content: bytes('two') };
      await store.write(one);
      probe.failNext('TagResource', killed());
      await expect(store.write({ ...two, existing: await only() })).rejects.toThrow('the process died here');
      expect(reconcile(listing(two), await store.listSynced(PREFIX), PREFIX).fetch).toHaveLength(1);

      await store.write({ ...two, existing: await only() });
      expect(await only()).toMatchObject({ checksum: 'c2', complete: true });
      expect(Object.keys((await describeSecret(one.secretName)).VersionIdsToStages ?? {})).toHaveLength(2);
    });
  });

  test('UTF-8 content is a SecretString, a byte-order mark kept; anything else a SecretBinary', async () => {
    const text = secretWrite('text', { content: bytes('\uFEFFpäss wörd') });
    const binary = secretWrite('binary', { content: new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x41]) });
    await store.write(text);
    await store.write(binary);

    const stored = await current(text.secretName);
    expect(stored.SecretString).toBe('\uFEFFpäss wörd');
    expect(bytes(stored.SecretString as string)).toEqual(text.content);
    const raw = await current(binary.secretName);
    expect(raw.SecretString).toBeUndefined();
    expect(raw.SecretBinary).toEqual(binary.content);
  });

  test('content of 65,537 bytes is refused with SecretTooLarge, and nothing is written', async () => {
    await expect(
      store.write(secretWrite('fits', { content: new Uint8Array(65_536).fill(0x61) })),
    ).resolves.toMatchObject({
      created: true,
    });
    const before = { ...probe.calls };
    const big = store.write(secretWrite('big', { content: new Uint8Array(65_537).fill(0x61) }));
    await expect(big).rejects.toThrow(SecretTooLarge);
    await expect(big).rejects.toThrow(
      'Keywhiz secret "big" is 65537 bytes; Secrets Manager takes at most 65536',
    );
    expect(probe.calls).toEqual(before);
  });

  test('a secret of that name without our marker is never overwritten nor deleted', async () => {
    const w = secretWrite('shared');
    await sm.send(
      new CreateSecretCommand({
        Name: w.secretName,
        SecretString: 'theirs',
        Tags: [{ Key: 'team', Value: 'db' }],
      }),
    );

    const attempt = store.write(w);
    await expect(attempt).rejects.toThrow(SecretNotOwned);
    await expect(attempt).rejects.toThrow(
      `secret ${w.secretName} exists without the tag trust-bridge:managed-by=trust-bridge`,
    );
    expect(await store.listSynced(PREFIX)).toEqual([]);
    const foreign = await describeSecret(w.secretName);
    const asListed: SyncedSecret = {
      secretName: w.secretName,
      arn: foreign.ARN as string,
      keywhizName: 'shared',
      checksum: '',
      complete: false,
    };
    await expect(store.remove(asListed, 7)).rejects.toThrow(SecretNotOwned);

    expect(await current(w.secretName)).toMatchObject({ SecretString: 'theirs' });
    expect(await tagsOf(w.secretName)).toEqual({ team: 'db' });
    expect((await describeSecret(w.secretName)).DeletedDate).toBeUndefined();
    expect(probe.calls.PutSecretValue ?? 0).toBe(0);
    expect(probe.calls.DeleteSecret ?? 0).toBe(0);
  });

  test('a write that finds its own secret already there (a lost create answer) carries on as an update', async () => {
    const w = secretWrite('api-key');
    await store.write(w);
    const changed = { ...w, checksum: 'c2', content: bytes('two') };
    await expect(store.write(changed)).resolves.toMatchObject({ created: false, restored: false });
    expect(await current(w.secretName)).toMatchObject({ SecretString: 'two' });
  });

  test('remove schedules deletion with the recovery window; the listing shows it; restore brings it back', async () => {
    const w = secretWrite('old');
    await store.write(w);
    const removed = await store.remove(await only(), 7);

    const listed = await only();
    expect(listed.deletedAt).toBeDefined();
    expect(Date.parse(removed.deletionDate) - Date.parse(listed.deletedAt as string)).toBe(
      7 * 24 * 3600 * 1000,
    );
    await expect(current(w.secretName)).rejects.toThrow(/marked for deletion/);
    // Removing again answers the same date and sends no second DeleteSecret.
    await expect(store.remove(listed, 7)).resolves.toEqual(removed);
    expect(probe.calls.DeleteSecret).toBe(1);

    await store.restore(listed);
    expect((await only()).deletedAt).toBeUndefined();
    expect(await current(w.secretName)).toMatchObject({ SecretString: 'value of old' });
  });

  test('a write to a secret scheduled for deletion restores it first', async () => {
    const w = secretWrite('back');
    await store.write(w);
    await store.remove(await only(), 7);

    const changed = { ...w, checksum: 'c2', content: bytes('again'), existing: await only() };
    await expect(store.write(changed)).resolves.toMatchObject({ created: false, restored: true });
    expect(await current(w.secretName)).toMatchObject({ SecretString: 'again' });
    // Without the listing (a targeted sync), the name clash leads to the same restore.
    await store.remove(await only(), 7);
    await expect(store.write({ ...w, checksum: 'c3' })).resolves.toMatchObject({ restored: true });
    expect(await only()).toMatchObject({ checksum: 'c3' });
  });

  test('lists only its own service’s mapped, marked secrets', async () => {
    await store.write(secretWrite('mine'));
    await store.write({
      ...secretWrite('theirs'),
      secretName: syncedSecretName(syncedSecretPrefix('trust-bridge/secrets/', 'prod', 'billing'), 'theirs'),
      service: 'billing',
    });
    await sm.send(new CreateSecretCommand({ Name: `${PREFIX}unmarked`, SecretString: 'x' }));
    await sm.send(
      new CreateSecretCommand({
        Name: `${PREFIX}not+mapped`,
        SecretString: 'x',
        Tags: [{ Key: 'trust-bridge:managed-by', Value: 'trust-bridge' }],
      }),
    );
    await sm.send(
      new CreateSecretCommand({
        Name: `${PREFIX}other-marker`,
        SecretString: 'x',
        Tags: [{ Key: 'trust-bridge:managed-by', Value: 'someone-else' }],
      }),
    );
    expect((await store.listSynced(PREFIX)).map((s) => s.keywhizName)).toEqual(['mine']);
  });

  test('one ListSecrets call for 100 secrets, two for 101', async () => {
    for (let i = 0; i < 101; i++) await store.write(secretWrite(`s${i}`));
    const calls = () => probe.calls.ListSecrets ?? 0;

    let before = calls();
    expect(await store.listSynced(PREFIX)).toHaveLength(101);
    expect(calls() - before).toBe(2);

    await store.remove(
      (await store.listSynced(PREFIX)).find((s) => s.keywhizName === 's0') as SyncedSecret,
      7,
    );
    await sm.send(new DeleteSecretCommand({ SecretId: `${PREFIX}s1`, ForceDeleteWithoutRecovery: true }));
    before = calls();
    const listed = await store.listSynced(PREFIX);
    expect(listed).toHaveLength(100);
    expect(calls() - before).toBe(1);
  });

  test.each(['ThrottlingException', 'InternalServiceError', 'TimeoutError'])(
    '%s becomes StoreThrottled',
    async (name) => {
      probe.failNext('CreateSecret', throttled(name));
      const w = secretWrite('api-key');
      await expect(store.write(w)).rejects.toThrow(StoreThrottled);
      probe.failNext('ListSecrets', throttled(name));
      await expect(store.listSynced(PREFIX)).rejects.toMatchObject({ name: 'StoreThrottled' });
      // The retry the workflow makes then succeeds.
      await expect(store.write(w)).resolves.toMatchObject({ created: true });
    },
  );
});

// aws-sdk-client-mock is typed against older @smithy/types; seen through this narrower interface.
interface Behavior {
  resolves(response: object): Behavior;
  rejects(error: Error): Behavior;
}
interface Stub {
  reset(): void;
  calls(): { args: [object] }[];
  on(command: abstract new (input: never) => object, input?: object): Behavior;
  commandCalls<I>(command: new (...input: never[]) => { input: I }): { args: [{ input: I }] }[];
}

describe('requests as AWS receives them', () => {
  const mock = mockClient(SecretsManagerClient as never) as unknown as Stub;
  const store = () => new SecretsManagerSecretStore(new SecretsManagerClient({}), { kmsKeyId: 'alias/k' });
  const commandsSent = () => mock.calls().map((call) => call.args[0].constructor.name);
  const w = secretWrite('db:password');
  const ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${w.secretName}-AbCdEf`;
  const token = secretVersionToken('db:password', w.checksum);

  beforeEach(() => mock.reset());

  test('CreateSecret: name, key, string value, token and all five tags', async () => {
    mock.on(CreateSecretCommand).resolves({ ARN, Name: w.secretName, VersionId: token });
    await expect(store().write(w)).resolves.toEqual({
      arn: ARN,
      versionId: token,
      created: true,
      restored: false,
    });
    expect(commandsSent()).toEqual(['CreateSecretCommand']);
    expect(mock.commandCalls(CreateSecretCommand)[0]?.args[0].input).toEqual({
      Name: 'trust-bridge/secrets/prod/payments/db+3Apassword',
      ClientRequestToken: token,
      KmsKeyId: 'alias/k',
      SecretString: 'value of db:password',
      Tags: [
        { Key: 'trust-bridge:managed-by', Value: 'trust-bridge' },
        { Key: 'trust-bridge:keywhiz-checksum', Value: w.checksum },
        { Key: 'trust-bridge:keywhiz-updated', Value: '2024-05-01T10:00:00.000Z' },
        { Key: 'trust-bridge:service', Value: 'payments' },
        { Key: 'trust-bridge:environment', Value: 'prod' },
      ],
    });
  });

  test('an existing secret: PutSecretValue by ARN with the token, then TagResource with checksum and date', async () => {
    mock.on(PutSecretValueCommand).resolves({ ARN, VersionId: token, VersionStages: ['AWSCURRENT'] });
    mock.on(TagResourceCommand).resolves({});
    const existing: SyncedSecret = {
      secretName: w.secretName,
      arn: ARN,
      keywhizName: w.keywhizName,
      checksum: 'before',
      updateDate: '2024-01-01T00:00:00.000Z',
      complete: true,
    };
    const binary = new Uint8Array([0xc3, 0x28]);
    await store().write({ ...w, content: binary, existing });

    expect(commandsSent()).toEqual(['PutSecretValueCommand', 'TagResourceCommand']);
    expect(mock.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      ClientRequestToken: token,
      SecretBinary: binary,
      VersionStages: ['TRUST_BRIDGE_PENDING'],
    });
    expect(mock.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      Tags: [
        { Key: 'trust-bridge:keywhiz-checksum', Value: w.checksum },
        { Key: 'trust-bridge:keywhiz-updated', Value: '2024-05-01T10:00:00.000Z' },
      ],
    });
  });

  test('a new version is made current only from the version listed; a refused move names the race', async () => {
    const listed: SyncedSecret = {
      secretName: w.secretName,
      arn: ARN,
      keywhizName: w.keywhizName,
      checksum: 'before',
      complete: true,
      currentVersionId: 'listed-version',
    };
    mock
      .on(PutSecretValueCommand)
      .resolves({ ARN, VersionId: token, VersionStages: ['TRUST_BRIDGE_PENDING'] });
    mock.on(UpdateSecretVersionStageCommand).resolves({});
    mock.on(TagResourceCommand).resolves({});
    await store().write({ ...w, existing: listed });
    expect(commandsSent()).toEqual([
      'PutSecretValueCommand',
      'UpdateSecretVersionStageCommand',
      'TagResourceCommand',
    ]);
    expect(mock.commandCalls(UpdateSecretVersionStageCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      RemoveFromVersionId: 'listed-version',
    });

    // Refused: AWSCURRENT moved on meanwhile. Another write's version is current: raced, and no tags.
    mock.reset();
    const refused = new InvalidParameterException({
      message: 'not attached',
      $metadata: { httpStatusCode: 400 },
    });
    mock
      .on(PutSecretValueCommand)
      .resolves({ ARN, VersionId: token, VersionStages: ['TRUST_BRIDGE_PENDING'] });
    mock.on(UpdateSecretVersionStageCommand).rejects(refused);
    mock.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { 'newer-version': ['AWSCURRENT'] } });
    await expect(store().write({ ...w, existing: listed })).rejects.toMatchObject({
      name: 'SecretWriteRaced',
      message: expect.stringContaining('became current after this sync read it (it was listed-version)'),
    });
    expect(commandsSent()).not.toContain('TagResourceCommand');

    // Refused because this very move went through before (a timed-out call sent again): done, and tagged.
    mock.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { [token]: ['AWSCURRENT'] } });
    mock.on(TagResourceCommand).resolves({});
    await expect(store().write({ ...w, existing: listed })).resolves.toMatchObject({ versionId: token });
  });

  test('a name clash with a foreign secret: DescribeSecret, then SecretNotOwned and no write', async () => {
    mock
      .on(CreateSecretCommand)
      .rejects(new ResourceExistsException({ message: 'exists', $metadata: { httpStatusCode: 400 } }));
    mock
      .on(DescribeSecretCommand)
      .resolves({ ARN, Name: w.secretName, Tags: [{ Key: 'team', Value: 'db' }] });
    await expect(store().write(w)).rejects.toThrow(SecretNotOwned);
    expect(commandsSent()).toEqual(['CreateSecretCommand', 'DescribeSecretCommand']);
  });

  test('listSynced: name and marker filters, planned deletions included, 100 a page, every page', async () => {
    mock.on(ListSecretsCommand).resolves({ SecretList: [] });
    mock.on(ListSecretsCommand, { NextToken: undefined }).resolves({ SecretList: [], NextToken: 'page-2' });
    await store().listSynced(PREFIX);

    expect(mock.commandCalls(ListSecretsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Filters: [
          { Key: 'name', Values: [PREFIX] },
          { Key: 'tag-key', Values: ['trust-bridge:managed-by'] },
        ],
        IncludePlannedDeletion: true,
        MaxResults: 100,
      },
      expect.objectContaining({ NextToken: 'page-2' }),
    ]);
  });
});

describe('recordedChecksum', () => {
  test('keeps a checksum a tag can hold, and stores a digest of one it cannot', () => {
    const hmac = 'a3f1'.repeat(16);
    expect(recordedChecksum(hmac)).toBe(hmac);
    expect(recordedChecksum('x'.repeat(257))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(recordedChecksum('has\nnewline')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(recordedChecksum('x'.repeat(257))).not.toBe(recordedChecksum('x'.repeat(258)));
    expect(SYNCED_SECRET_TAG.keywhizChecksum).toBe('trust-bridge:keywhiz-checksum');
  });
});
