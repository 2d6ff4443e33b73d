import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  MalformedPolicyDocumentException,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { probeSecretsManager } from '../../../../bench/secrets-manager-probe';
import { LocalSecretsManager } from '../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { DamagedSecretFile } from '../../../../local-stack/stand-ins/secrets-manager/stored-secret';
import { enrollment, startLocalStack } from '../../../support/local-run';

const ACCOUNT = '111122223333';
const TOKEN_A = 'a'.repeat(32);
const TOKEN_B = 'b'.repeat(40);
const TOKEN_C = 'c'.repeat(64);
const bytes = (s: string) => new TextEncoder().encode(s);

let dataDir: string;
let clock: Date;
let sm: LocalSecretsManager;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-sm-'));
  clock = new Date('2030-01-01T00:00:00.000Z');
  sm = new LocalSecretsManager({ dataDir, accountId: ACCOUNT, region: 'eu-west-1', now: () => clock });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const accountDir = () => join(dataDir, 'secretsmanager', ACCOUNT);
const fileOf = (name: string) => join(accountDir(), `${encodeURIComponent(name)}.json`);
const stored = (name: string) => JSON.parse(readFileSync(fileOf(name), 'utf8'));

describe('storage', () => {
  test("keeps each secret's values in a file only its owner may read (0600), under its account", async () => {
    const created = await sm.send(
      new CreateSecretCommand({
        Name: 'trust-bridge/svid/prod/payments',
        ClientRequestToken: TOKEN_A,
        SecretBinary: bytes('{"spiffeID":"x"}'),
      }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:111122223333:secret:trust-bridge\/svid\/prod\/payments-[A-Za-z0-9]{6}$/,
    );
    expect(readdirSync(accountDir())).toHaveLength(1);
    expect(statSync(fileOf('trust-bridge/svid/prod/payments')).mode & 0o777).toBe(0o600);
  });

  test('a second instance over the same directory sees every write, listings included', async () => {
    const other = new LocalSecretsManager({
      dataDir,
      accountId: ACCOUNT,
      region: 'eu-west-1',
      now: () => clock,
    });
    expect((await other.send(new ListSecretsCommand({}))).SecretList).toEqual([]);

    await sm.send(new CreateSecretCommand({ Name: 'one', SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    await sm.send(
      new PutSecretValueCommand({ SecretId: 'one', SecretString: 'v2', ClientRequestToken: TOKEN_B }),
    );

    expect((await other.send(new GetSecretValueCommand({ SecretId: 'one' }))).SecretString).toBe('v2');
    expect((await other.send(new ListSecretsCommand({}))).SecretList?.map((s) => s.Name)).toEqual(['one']);

    await other.send(new TagResourceCommand({ SecretId: 'one', Tags: [{ Key: 'k', Value: 'v' }] }));
    expect((await sm.send(new ListSecretsCommand({}))).SecretList?.[0]?.Tags).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
  });

  test('secrets of another account live apart', async () => {
    const other = new LocalSecretsManager({ dataDir, accountId: '444455556666', now: () => clock });
    await sm.send(new CreateSecretCommand({ Name: 'one', SecretString: 'v' }));
    await expect(other.send(new DescribeSecretCommand({ SecretId: 'one' }))).rejects.toThrow(
      ResourceNotFoundException,
    );
  });
});

describe('versions and tokens', () => {
  test('the ClientRequestToken becomes the VersionId and stages move AWSCURRENT -> AWSPREVIOUS', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v1', ClientRequestToken: TOKEN_A }));
    const put = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: TOKEN_B }),
    );
    expect(put).toMatchObject({ VersionId: TOKEN_B, VersionStages: ['AWSCURRENT'] });
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'v3', ClientRequestToken: TOKEN_C }),
    );

    const described = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    // The oldest version lost every label, so DescribeSecret no longer lists it.
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_B]: ['AWSPREVIOUS'], [TOKEN_C]: ['AWSCURRENT'] });
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('v2');
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionId: TOKEN_A }));
    expect(byId).toMatchObject({ SecretString: 'v1', VersionStages: [] });
  });

  test('the same token with the same value is a no-op returning that version', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 's', SecretBinary: bytes('one'), ClientRequestToken: TOKEN_A }),
    );
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretBinary: bytes('two'), ClientRequestToken: TOKEN_B }),
    );
    const again = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretBinary: bytes('one'), ClientRequestToken: TOKEN_A }),
    );
    expect(again).toMatchObject({ VersionId: TOKEN_A, VersionStages: ['AWSPREVIOUS'] });
    const current = await sm.send(new GetSecretValueCommand({ SecretId: 's' }));
    expect(current.SecretBinary).toEqual(bytes('two'));
    expect(stored('s').versions).toHaveLength(2);

    const recreated = await sm.send(
      new CreateSecretCommand({ Name: 's', SecretBinary: bytes('one'), ClientRequestToken: TOKEN_A }),
    );
    expect(recreated.VersionId).toBe(TOKEN_A);
  });

  test('UpdateSecretVersionStage moves AWSCURRENT back to an older version, which must be named', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: TOKEN_A }));
    await sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: TOKEN_B }),
    );
    const unnamed = sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_A,
      }),
    );
    await expect(unnamed).rejects.toThrow(InvalidParameterException);
    await expect(unnamed).rejects.toThrow(
      /attached to version b{40}; specify that version as RemoveFromVersionId/,
    );
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_C,
          RemoveFromVersionId: TOKEN_B,
        }),
      ),
    ).rejects.toThrow(ResourceNotFoundException);

    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 's',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_A,
        RemoveFromVersionId: TOKEN_B,
      }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSCURRENT'], [TOKEN_B]: ['AWSPREVIOUS'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('one');
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          RemoveFromVersionId: TOKEN_A,
        }),
      ),
    ).rejects.toThrow(/can't remove the staging label AWSCURRENT without moving it/);
  });

  test('the same token with a different value is refused with ResourceExistsException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: TOKEN_A }));
    const reuse = sm.send(
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: TOKEN_A }),
    );
    await expect(reuse).rejects.toThrow(ResourceExistsException);
    await expect(reuse).rejects.toThrow(/ClientRequestToken a{32} because that value is already in use/);
    await expect(
      sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: TOKEN_B })),
    ).rejects.toThrow('The operation failed because the secret s already exists.');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('one');
  });

  test('tokens must be 32-64 characters; values at most 65,536 bytes; one kind of value', async () => {
    await expect(
      sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: 'short' })),
    ).rejects.toThrow(InvalidParameterException);
    await expect(
      sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: 'x'.repeat(65) })),
    ).rejects.toThrow(InvalidParameterException);
    await sm.send(new CreateSecretCommand({ Name: 's', SecretBinary: new Uint8Array(65_536) }));
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretBinary: new Uint8Array(65_537) })),
    ).rejects.toThrow(/65536/);
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'é'.repeat(32_769) })),
    ).rejects.toThrow(InvalidParameterException);
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'a', SecretBinary: bytes('b') })),
    ).rejects.toThrow(InvalidParameterException);
    expect(stored('s').versions).toHaveLength(1);
  });

  test('GetSecretValue refuses a VersionStage that the VersionId does not carry', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: TOKEN_A }));
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: 's', VersionId: TOKEN_A, VersionStage: 'AWSPREVIOUS' })),
    ).rejects.toThrow(InvalidRequestException);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 's', VersionId: TOKEN_B }))).rejects.toThrow(
      ResourceNotFoundException,
    );
  });

  test('a SecretId may be the name, the full ARN or the ARN without its suffix', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'a/b', SecretString: 'v' }));
    const partial = (ARN as string).slice(0, -7);
    for (const id of ['a/b', ARN, partial]) {
      expect((await sm.send(new DescribeSecretCommand({ SecretId: id }))).ARN).toBe(ARN);
    }
    const wrongSuffix = `${partial}-ZZZZZZ`;
    await expect(sm.send(new DescribeSecretCommand({ SecretId: wrongSuffix }))).rejects.toThrow(
      ResourceNotFoundException,
    );
  });
});

describe('tags and policies', () => {
  test('tags merge, untag removes, and at most 50 are kept', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', Tags: [{ Key: 'a', Value: '1' }] }));
    await sm.send(
      new TagResourceCommand({
        SecretId: 's',
        Tags: [
          { Key: 'a', Value: '2' },
          { Key: 'b', Value: '3' },
        ],
      }),
    );
    await sm.send(new UntagResourceCommand({ SecretId: 's', TagKeys: ['b'] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 's' }))).Tags).toEqual([
      { Key: 'a', Value: '2' },
    ]);

    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expect(sm.send(new TagResourceCommand({ SecretId: 's', Tags: many }))).rejects.toThrow(
      InvalidParameterException,
    );
    expect(stored('s').tags).toEqual([{ Key: 'a', Value: '2' }]);
  });

  test('a resource policy must parse, and BlockPublicPolicy refuses an open Allow', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's' }));
    await expect(
      sm.send(new PutResourcePolicyCommand({ SecretId: 's', ResourcePolicy: '{oops' })),
    ).rejects.toThrow(MalformedPolicyDocumentException);
    const open = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
    });
    await expect(
      sm.send(new PutResourcePolicyCommand({ SecretId: 's', ResourcePolicy: open, BlockPublicPolicy: true })),
    ).rejects.toThrow(/BlockPublicPolicy/);
    const closed = JSON.stringify({
      Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
    });
    await sm.send(
      new PutResourcePolicyCommand({ SecretId: 's', ResourcePolicy: closed, BlockPublicPolicy: true }),
    );
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: 's' }))).ResourcePolicy).toBe(closed);
  });
});

describe('deletion', () => {
  test('a scheduled secret keeps its name, refuses reads and writes, and can be restored', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: TOKEN_A }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate).toEqual(new Date('2030-01-08T00:00:00.000Z'));
    expect(stored('s')).toMatchObject({
      deletedDate: '2030-01-01T00:00:00.000Z',
      deletionDate: '2030-01-08T00:00:00.000Z',
    });

    const refusals = [
      new GetSecretValueCommand({ SecretId: 's' }),
      new PutSecretValueCommand({ SecretId: 's', SecretString: 'w' }),
      new TagResourceCommand({ SecretId: 's', Tags: [{ Key: 'k', Value: 'v' }] }),
      new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }),
    ];
    for (const command of refusals) {
      await expect(sm.send(command as GetSecretValueCommand)).rejects.toThrow(InvalidRequestException);
    }
    await expect(sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }))).rejects.toThrow(
      /already scheduled for deletion/,
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(described.DeletedDate).toEqual(new Date('2030-01-01T00:00:00.000Z'));
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    expect((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList).toHaveLength(
      1,
    );

    await sm.send(new RestoreSecretCommand({ SecretId: 's' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v');
  });

  test('the recovery window is 7 to 30 days, and the secret is gone once it has passed', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    for (const days of [6, 31]) {
      await expect(
        sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: days })),
      ).rejects.toThrow('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    await expect(
      sm.send(
        new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true }),
      ),
    ).rejects.toThrow(InvalidParameterException);
    await sm.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 30 }));

    clock = new Date('2030-01-30T23:59:59.000Z');
    await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    clock = new Date('2030-01-31T00:00:00.000Z');
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 's' }))).rejects.toThrow(
      ResourceNotFoundException,
    );
    expect(readdirSync(accountDir())).toEqual([]);
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'new' }));
  });

  test('ForceDeleteWithoutRecovery removes the file at once', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 's', ForceDeleteWithoutRecovery: true }));
    expect(readdirSync(accountDir())).toEqual([]);
  });
});

describe('listing', () => {
  const create = async (name: string, tags: Record<string, string> = {}, description?: string) => {
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: 'v',
        Description: description,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    clock = new Date(clock.getTime() + 1000);
  };

  test('pages with MaxResults and NextToken, newest first, every secret exactly once', async () => {
    const { calls } = probeSecretsManager(sm);
    for (let i = 0; i < 250; i++) await create(`s${String(i).padStart(3, '0')}`);
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 100, NextToken }));
      names.push(...(page.SecretList ?? []).map((s) => s.Name as string));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken);
    expect(pages).toBe(3);
    expect(names).toHaveLength(250);
    expect(names[0]).toBe('s249');
    expect(new Set(names).size).toBe(250);
    expect(calls.ListSecrets).toBe(3);

    await expect(sm.send(new ListSecretsCommand({ MaxResults: 101 }))).rejects.toThrow(
      InvalidParameterException,
    );
    await expect(sm.send(new ListSecretsCommand({ NextToken: 'garbage' }))).rejects.toThrow(
      InvalidNextTokenException,
    );
  });

  test('a full page gives a NextToken only when more matches follow (more output available)', async () => {
    // Oldest, so last in the listing's order: after the page, only a secret that does not match.
    await create('other/ca');
    for (let i = 0; i < 100; i++) await create(`synced/s${String(i).padStart(3, '0')}`);
    const list = (NextToken?: string) =>
      sm.send(
        new ListSecretsCommand({
          MaxResults: 100,
          Filters: [{ Key: 'name', Values: ['synced/'] }],
          NextToken,
        }),
      );
    const only = await list();
    expect(only.SecretList).toHaveLength(100);
    expect(only.NextToken).toBeUndefined();

    await create('synced/s100');
    const first = await list();
    expect(first.NextToken).toBeDefined();
    const second = await list(first.NextToken);
    expect(second.SecretList?.map((s) => s.Name)).toEqual(['synced/s000']);
    expect(second.NextToken).toBeUndefined();
  });

  test('filters: name prefix, tag-key and tag-value prefixes, negation, and all-words', async () => {
    await create('svid/prod/payments', { 'trust-bridge:managed-by': 'trust-bridge' }, 'Payments SVID');
    await create('svid/dev/payments', { 'trust-bridge:managed-by': 'someone-else' });
    await create('other/thing', { owner: 'teamA' });
    const list = async (Filters: { Key: 'name' | 'tag-key' | 'tag-value' | 'all'; Values: string[] }[]) =>
      ((await sm.send(new ListSecretsCommand({ Filters }))).SecretList ?? []).map((s) => s.Name).sort();

    expect(await list([{ Key: 'name', Values: ['svid/'] }])).toEqual([
      'svid/dev/payments',
      'svid/prod/payments',
    ]);
    expect(await list([{ Key: 'name', Values: ['SVID/'] }])).toEqual([]);
    expect(await list([{ Key: 'tag-key', Values: ['trust-bridge:managed'] }])).toEqual([
      'svid/dev/payments',
      'svid/prod/payments',
    ]);
    expect(
      await list([
        { Key: 'tag-key', Values: ['trust-bridge:managed-by'] },
        { Key: 'tag-value', Values: ['trust-bridge'] },
      ]),
    ).toEqual(['svid/prod/payments']);
    expect(await list([{ Key: 'name', Values: ['!svid/'] }])).toEqual(['other/thing']);
    expect(await list([{ Key: 'all', Values: ['payments svid'] }])).toEqual([
      'svid/dev/payments',
      'svid/prod/payments',
    ]);
    expect(await list([{ Key: 'all', Values: ['TEAM'] }])).toEqual(['other/thing']);
  });
});

describe('BatchGetSecretValue', () => {
  test('reads up to 20 secrets, reporting missing and deleted ones per entry', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'a', SecretString: 'va' }));
    await sm.send(new CreateSecretCommand({ Name: 'b', SecretString: 'vb' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'b', RecoveryWindowInDays: 7 }));
    const result = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a', 'b', 'missing'] }));
    expect(result.SecretValues?.map((v) => [v.Name, v.SecretString])).toEqual([['a', 'va']]);
    expect(result.Errors?.map((e) => [e.SecretId, e.ErrorCode])).toEqual([
      ['b', 'InvalidRequestException'],
      ['missing', 'ResourceNotFoundException'],
    ]);
    const tooMany = Array.from({ length: 21 }, (_, i) => `s${i}`);
    await expect(sm.send(new BatchGetSecretValueCommand({ SecretIdList: tooMany }))).rejects.toThrow(
      InvalidParameterException,
    );
  });

  test('with Filters, pages 20 at a time', async () => {
    for (let i = 0; i < 25; i++)
      await sm.send(new CreateSecretCommand({ Name: `p${i}`, SecretString: `v${i}` }));
    const first = await sm.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['p'] }] }),
    );
    expect(first.SecretValues).toHaveLength(20);
    const second = await sm.send(
      new BatchGetSecretValueCommand({
        Filters: [{ Key: 'name', Values: ['p'] }],
        NextToken: first.NextToken,
      }),
    );
    expect(second.SecretValues).toHaveLength(5);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('instrumentation', () => {
  test('its probe counts calls per operation and fails the next ones on demand', async () => {
    const probe = probeSecretsManager(sm);
    const throttled = new SecretsManagerServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });
    probe.failNext('CreateSecret', throttled, 2);
    await expect(sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }))).rejects.toBe(throttled);
    await expect(sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }))).rejects.toBe(throttled);
    expect(readdirSync(accountDir())).toEqual([]);
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    await sm.send(new DescribeSecretCommand({ SecretId: 's' }));
    expect(probe.calls).toEqual({ CreateSecret: 3, DescribeSecret: 1 });
  });

  test('refuses a command it does not implement instead of pretending', async () => {
    const { RotateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    await expect(sm.send(new RotateSecretCommand({ SecretId: 's' }))).rejects.toThrow(
      /does not implement RotateSecretCommand/,
    );
  });
});

/**
 * A second process writing secrets into `dataDir`, stopped in the middle of its writes: it starts many creates,
 * lets them run until a temporary file holds a value, then blocks its main thread, so no write is put in place.
 * Killing it then is a SIGKILL between writing and renaming.
 */
const WRITER = `
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [modulePath, dataDir, account] = process.argv.slice(1);
const { LocalSecretsManager } = await import(modulePath);
const { CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
const sm = new LocalSecretsManager({ dataDir, accountId: account });
const pending = [];
for (let i = 0; i < 100; i++) {
  pending.push(sm.send(new CreateSecretCommand({ Name: 'svid-' + i, SecretString: 'PRIVATE KEY '.repeat(5000) })));
}
let done = false;
Promise.all(pending).then(() => { done = true; });
const dir = join(dataDir, 'secretsmanager', account);
const holdsValue = () => readdirSync(dir).some((f) => f.endsWith('.tmp') && statSync(join(dir, f)).size > 0);
while (!holdsValue()) {
  if (done) process.exit(3);
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write('stopped mid-write\\n');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
`;

const startStoppedWriter = async () => {
  const modulePath = fileURLToPath(
    new URL('../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager.ts', import.meta.url),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', WRITER, modulePath, dataDir, ACCOUNT],
    { cwd: fileURLToPath(new URL('../../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  let output = '';
  for await (const chunk of child.stdout) {
    output += String(chunk);
    if (output.includes('\n')) break;
  }
  expect(output).toBe('stopped mid-write\n');
  return { kill: async () => (child.kill('SIGKILL'), await exited) };
};

const temporaryFiles = () => readdirSync(accountDir()).filter((f) => f.endsWith('.tmp'));

describe('a writer killed mid-write', () => {
  test('leaves no file holding a secret value: the next opening removes it, never a live writer’s', async () => {
    const writer = await startStoppedWriter();
    const unfinished = temporaryFiles();
    expect(unfinished.length).toBeGreaterThan(0);
    const held = unfinished.map((f) => readFileSync(join(accountDir(), f), 'utf8'));
    expect(held.some((text) => text.includes('PRIVATE KEY'))).toBe(true);

    const warnings: string[] = [];
    const open = () =>
      new LocalSecretsManager({ dataDir, accountId: ACCOUNT, onWarning: (m) => warnings.push(m) });
    // Its writer is alive (only stopped): its files are still being written.
    open();
    expect(temporaryFiles()).toEqual(unfinished);
    expect(warnings).toEqual([]);

    expect(await writer.kill()).toEqual([null, 'SIGKILL']);
    const reopened = open();
    expect(temporaryFiles()).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^removed ${unfinished.length} unfinished secret write\\(s\\) from ${accountDir()}`),
      ),
    ]);
    // The secrets whose writes finished read whole; the interrupted ones do not exist.
    const listed = (await reopened.send(new ListSecretsCommand({ MaxResults: 100 }))).SecretList ?? [];
    for (const { Name } of listed) {
      expect((await reopened.send(new GetSecretValueCommand({ SecretId: Name }))).SecretString).toHaveLength(
        60_000,
      );
    }
  }, 60_000);
});

describe('an unfinished write under this process’s own pid', () => {
  test('is removed too: a restarted container can get the pid its killed predecessor had', async () => {
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v1' }));
    const leftover = join(accountDir(), `.s.json.${process.pid}.0123456789ab.tmp`);
    writeFileSync(leftover, 'PRIVATE KEY');
    const warnings: string[] = [];
    const reopened = new LocalSecretsManager({
      dataDir,
      accountId: ACCOUNT,
      onWarning: (m) => warnings.push(m),
    });
    expect(temporaryFiles()).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect((await reopened.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v1');
  });
});

describe('two stores over one directory (two processes)', () => {
  const second = () => new LocalSecretsManager({ dataDir, accountId: ACCOUNT, now: () => clock });

  test('of two creates of one name, one wins and the other gets ResourceExistsException', async () => {
    const other = second();
    const outcomes = await Promise.allSettled([
      sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'mine', ClientRequestToken: TOKEN_A })),
      other.send(new CreateSecretCommand({ Name: 's', SecretString: 'theirs', ClientRequestToken: TOKEN_B })),
    ]);
    const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toEqual([expect.any(ResourceExistsException)]);
    expect((lost[0] as Error).message).toBe('The operation failed because the secret s already exists.');
    expect(stored('s').arn).toBe(won[0]?.ARN);
    // Both see the winner's secret, listings included, and nothing else was left on disk.
    for (const store of [sm, other]) {
      expect((await store.send(new DescribeSecretCommand({ SecretId: 's' }))).ARN).toBe(won[0]?.ARN);
      expect((await store.send(new ListSecretsCommand({}))).SecretList?.map((e) => e.ARN)).toEqual([
        won[0]?.ARN,
      ]);
    }
    expect(readdirSync(accountDir())).toEqual(['s.json']);
  });

  test('a create retried with its token and value by the other process answers with the secret made', async () => {
    const create = new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: TOKEN_A });
    const [first, again] = await Promise.all([sm.send(create), second().send(create)]);
    expect(again).toMatchObject({ ARN: first.ARN, VersionId: TOKEN_A });
  });
});

describe('a damaged secret file', () => {
  const damage = (name: string, text: string) => writeFileSync(fileOf(name), text);

  test('fails the calls on its secret, naming the file and what to do; other secrets answer', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'good', SecretString: 'fine' }));
    await sm.send(new CreateSecretCommand({ Name: 'cut', SecretString: 'PRIVATE KEY material' }));
    const whole = readFileSync(fileOf('cut'), 'utf8');
    damage('cut', whole.slice(0, whole.indexOf('PRIVATE KEY') + 7));

    const calls = [
      new GetSecretValueCommand({ SecretId: 'cut' }),
      new DescribeSecretCommand({ SecretId: 'cut' }),
      new PutSecretValueCommand({ SecretId: 'cut', SecretString: 'next' }),
      new CreateSecretCommand({ Name: 'cut', SecretString: 'again' }),
    ];
    for (const command of calls) {
      const failed = sm.send(command as GetSecretValueCommand);
      await expect(failed).rejects.toThrow(DamagedSecretFile);
      await expect(failed).rejects.toThrow(`${fileOf('cut')} is damaged: not valid JSON`);
      await expect(failed).rejects.toThrow(
        '. Restore it from a backup, or delete it and the next run creates cut again',
      );
      await expect(failed).rejects.not.toThrow(/PRIVATE/);
    }
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'good' }))).SecretString).toBe('fine');
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['good', 'cut'] }));
    expect(batch.SecretValues?.map((v) => v.Name)).toEqual(['good']);
    expect(batch.Errors?.map((e) => [e.SecretId, e.ErrorCode])).toEqual([['cut', 'DamagedSecretFile']]);
  });

  test('JSON that is not a stored secret, or another secret’s, is damaged too (never a TypeError)', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'a', SecretString: 'v' }));
    await sm.send(new CreateSecretCommand({ Name: 'b', SecretString: 'v' }));
    damage('a', '{"name":"a","versions":{}}');
    await expect(sm.send(new PutSecretValueCommand({ SecretId: 'a', SecretString: 'w' }))).rejects.toThrow(
      `${fileOf('a')} is damaged: not a stored secret ` +
        '(wrong or missing: arn, tags, createdDate, lastChangedDate, versions)',
    );
    damage('a', readFileSync(fileOf('b'), 'utf8'));
    await expect(sm.send(new TagResourceCommand({ SecretId: 'a', Tags: [] }))).rejects.toThrow(
      `${fileOf('a')} is damaged: it holds secret b`,
    );
  });

  test('ListSecrets leaves it out with one warning naming the file, and lists every other secret', async () => {
    const warnings: string[] = [];
    const store = new LocalSecretsManager({
      dataDir,
      accountId: ACCOUNT,
      onWarning: (m) => warnings.push(m),
    });
    for (const name of ['one', 'two', 'three']) {
      await store.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    }
    damage('two', '{"name":"two",');
    const names = async () =>
      ((await store.send(new ListSecretsCommand({}))).SecretList ?? []).map((s) => s.Name).sort();

    expect(await names()).toEqual(['one', 'three']);
    await store.send(new CreateSecretCommand({ Name: 'four', SecretString: 'v' }));
    expect(await names()).toEqual(['four', 'one', 'three']);
    expect(warnings).toEqual([
      `ListSecrets leaves out a secret: ${fileOf('two')} is damaged: not valid JSON at character 14 (cut short, ` +
        'or edited?). Restore it from a backup, or delete it and the next run creates two again',
    ]);
    // Once deleted and created again, it is listed again.
    rmSync(fileOf('two'));
    await store.send(new CreateSecretCommand({ Name: 'two', SecretString: 'v' }));
    expect(await names()).toEqual(['four', 'one', 'three', 'two']);
  });

  test('a garbled SVID fails only its account’s rotation, and the failure names the file', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const services = { '111111111111': 'payments', '222222222222': 'ledger', '333333333333': 'reports' };
    const {
      dataDir: stackDir,
      stack,
      auditEvents,
    } = await startLocalStack([
      ...Object.entries(services).map(([account, service]) => enrollment(account, service)),
      enrollment('444444444444', 'search'),
    ]);
    try {
      expect((await stack.rotate()).status).toBe('SUCCEEDED');
      const name = 'trust-bridge/svid/prod/ledger';
      const file = join(
        stackDir,
        'secretsmanager',
        stack.config.CENTRAL_ACCOUNT_ID,
        `${encodeURIComponent(name)}.json`,
      );
      const whole = readFileSync(file, 'utf8');
      writeFileSync(file, whole.slice(0, whole.length / 2));

      const run = await stack.rotate({ force: true });
      expect(run.status).toBe('FAILED');
      expect(JSON.parse(run.cause ?? '')).toMatchObject({ accounts: ['222222222222'] });
      const events = await auditEvents(run.name);
      expect(
        events
          .filter((e) => e['detail-type'] === 'SVID Issued')
          .map((e) => e.detail.accountId)
          .sort(),
      ).toEqual(['111111111111', '333333333333', '444444444444']);
      const failure = events.find((e) => e['detail-type'] === 'SVID Rotation Failed');
      expect(failure?.detail).toMatchObject({ accountId: '222222222222', error: 'DamagedSecretFile' });
      expect(JSON.stringify(failure?.detail)).toContain(`${file} is damaged: not valid JSON`);
      expect(warn.mock.calls.flat().join('\n')).toContain(`ListSecrets leaves out a secret: ${file}`);
    } finally {
      await stack.close();
      warn.mockRestore();
    }
  }, 60_000);
});
