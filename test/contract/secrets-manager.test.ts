/**
 * Secrets Manager: LocalSecretsManager and moto answer the same SDK commands the same way. The stand-in is
 * used through `send(command)`, exactly as the adapters use the SDK client.
 */
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { SecretsManagerApi } from '../../functions/shared/aws/clients';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { awsOrMotoGap, type Backend, backendPair } from './backends';

const backends = backendPair<SecretsManagerApi, SecretsManagerClient>(
  { name: 'LocalSecretsManager', make: (options) => new LocalSecretsManager(options) },
  { make: (config) => new SecretsManagerClient(config) },
);

const TOKEN_1 = '11111111-1111-4111-8111-111111111111';
const TOKEN_2 = '22222222-2222-4222-8222-222222222222';
const TOKEN_3 = '33333333-3333-4333-8333-333333333333';
const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const DAY_MS = 24 * 3600 * 1000;
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/reader' } },
    },
  ],
});
const PUBLIC_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
  ],
});

const sorted = <T extends { Key?: string }>(tags: T[] | undefined): T[] =>
  [...(tags ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? ''));

describe.each(backends)('Secrets Manager contract: $name', ({ open }) => {
  let backend: Backend<SecretsManagerApi>;
  let sm: SecretsManagerApi;
  beforeEach(async () => {
    backend = await open();
    sm = backend.client;
  });
  afterEach(() => backend.close());

  const create = (Name: string, SecretString = 'v1', extra: Record<string, unknown> = {}) =>
    sm.send(new CreateSecretCommand({ Name, SecretString, ClientRequestToken: TOKEN_1, ...extra }));
  const describeSecret = (SecretId: string) => sm.send(new DescribeSecretCommand({ SecretId }));
  const listAll = async (input: ListSecretsCommandInput = {}) => {
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.send(new ListSecretsCommand({ ...input, NextToken }));
      names.push(...(page.SecretList ?? []).map((s) => s.Name as string));
      NextToken = page.NextToken;
    } while (NextToken);
    return names.sort();
  };

  describe('CreateSecret', () => {
    test('with ClientRequestToken, KmsKeyId and Tags: the token is the version, key and tags are kept', async () => {
      const created = await create('app/db', 'v1', {
        KmsKeyId: KMS_KEY,
        Tags: [
          { Key: 'team', Value: 'payments' },
          { Key: 'env', Value: 'prod' },
        ],
      });
      expect(created.Name).toBe('app/db');
      expect(created.VersionId).toBe(TOKEN_1);
      // The ARN ends in the name, a hyphen and six random characters.
      expect(created.ARN).toMatch(
        new RegExp(
          `^arn:aws:secretsmanager:${backend.region}:${backend.accountId}:secret:app/db-[A-Za-z0-9]{6}$`,
        ),
      );

      const described = await describeSecret('app/db');
      expect(described.ARN).toBe(created.ARN);
      expect(described.KmsKeyId).toBe(KMS_KEY);
      expect(sorted(described.Tags)).toEqual([
        { Key: 'env', Value: 'prod' },
        { Key: 'team', Value: 'payments' },
      ]);
      expect(described.VersionIdsToStages).toEqual({ [TOKEN_1]: ['AWSCURRENT'] });

      const value = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      expect(value).toMatchObject({ SecretString: 'v1', VersionId: TOKEN_1, VersionStages: ['AWSCURRENT'] });
    });

    test('a retry with the same token and value answers the same secret; another token is ResourceExistsException', async () => {
      const first = await create('app/retried');
      const retry = await create('app/retried');
      expect({ ARN: retry.ARN, VersionId: retry.VersionId }).toEqual({ ARN: first.ARN, VersionId: TOKEN_1 });
      await expect(
        sm.send(
          new CreateSecretCommand({ Name: 'app/retried', SecretString: 'v1', ClientRequestToken: TOKEN_2 }),
        ),
      ).rejects.toMatchObject({ name: 'ResourceExistsException' });
      expect((await describeSecret('app/retried')).VersionIdsToStages).toEqual({ [TOKEN_1]: ['AWSCURRENT'] });
    });

    test('a token shorter than 32 characters is InvalidParameterException', async () => {
      await expect(
        sm.send(
          new CreateSecretCommand({
            Name: 'app/short',
            SecretString: 'v',
            ClientRequestToken: 'x'.repeat(31),
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('PutSecretValue and version stages', () => {
    test('the same token and value twice is one version; a different value under that token is ResourceExistsException', async () => {
      await create('app/put');
      const put = () =>
        sm.send(
          new PutSecretValueCommand({ SecretId: 'app/put', SecretString: 'v2', ClientRequestToken: TOKEN_2 }),
        );
      const first = await put();
      const again = await put();
      expect(first).toMatchObject({ VersionId: TOKEN_2, VersionStages: ['AWSCURRENT'] });
      expect(again).toMatchObject({ VersionId: TOKEN_2, VersionStages: ['AWSCURRENT'] });
      expect((await describeSecret('app/put')).VersionIdsToStages).toEqual({
        [TOKEN_1]: ['AWSPREVIOUS'],
        [TOKEN_2]: ['AWSCURRENT'],
      });

      // AWS: "if the secret data is different, then the operation fails because you can't modify an existing version".
      await expect(
        sm.send(
          new PutSecretValueCommand({
            SecretId: 'app/put',
            SecretString: 'other',
            ClientRequestToken: TOKEN_2,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ResourceExistsException' });
      const current = await sm.send(new GetSecretValueCommand({ SecretId: 'app/put' }));
      expect(current).toMatchObject({ SecretString: 'v2', VersionId: TOKEN_2 });
    });

    test('AWSCURRENT moves to each new version and AWSPREVIOUS to the one it left; reads by stage and by id', async () => {
      await create('app/stages', 'v1');
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/stages',
          SecretString: 'v2',
          ClientRequestToken: TOKEN_2,
        }),
      );
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/stages',
          SecretString: 'v3',
          ClientRequestToken: TOKEN_3,
        }),
      );

      const stages = (await describeSecret('app/stages')).VersionIdsToStages;
      // The first version has lost its last label: deprecated.
      expect(stages).toEqual({
        ...awsOrMotoGap(backend.kind, 'secretsmanager.deprecated-versions-listed', {
          aws: {},
          moto: { [TOKEN_1]: [] },
        }),
        [TOKEN_2]: ['AWSPREVIOUS'],
        [TOKEN_3]: ['AWSCURRENT'],
      });

      const read = (input: { VersionStage?: string; VersionId?: string }) =>
        sm.send(new GetSecretValueCommand({ SecretId: 'app/stages', ...input }));
      expect(await read({})).toMatchObject({ SecretString: 'v3', VersionId: TOKEN_3 });
      expect(await read({ VersionStage: 'AWSPREVIOUS' })).toMatchObject({
        SecretString: 'v2',
        VersionId: TOKEN_2,
      });
      expect(await read({ VersionId: TOKEN_1 })).toMatchObject({ SecretString: 'v1', VersionStages: [] });
      expect(await read({ VersionId: TOKEN_2, VersionStage: 'AWSPREVIOUS' })).toMatchObject({
        SecretString: 'v2',
      });
      await expect(read({ VersionId: TOKEN_2, VersionStage: 'AWSCURRENT' })).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
      await expect(read({ VersionStage: 'AWSPENDING' })).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(read({ VersionId: '44444444-4444-4444-8444-444444444444' })).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });

    test('a version put with a custom stage leaves AWSCURRENT; UpdateSecretVersionStage moves it there', async () => {
      await create('app/pending', 'v1');
      const pending = await sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/pending',
          SecretString: 'v2',
          ClientRequestToken: TOKEN_2,
          VersionStages: ['AWSPENDING'],
        }),
      );
      expect(pending.VersionStages).toEqual(['AWSPENDING']);
      expect(await sm.send(new GetSecretValueCommand({ SecretId: 'app/pending' }))).toMatchObject({
        SecretString: 'v1',
      });

      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'app/pending',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_2,
          RemoveFromVersionId: TOKEN_1,
        }),
      );
      const stages = (await describeSecret('app/pending')).VersionIdsToStages ?? {};
      expect(stages[TOKEN_1]).toEqual(['AWSPREVIOUS']);
      expect([...(stages[TOKEN_2] ?? [])].sort()).toEqual(['AWSCURRENT', 'AWSPENDING']);
      const read = (VersionStage?: string) =>
        sm.send(new GetSecretValueCommand({ SecretId: 'app/pending', VersionStage }));
      expect(await read('AWSCURRENT')).toMatchObject({ SecretString: 'v2', VersionId: TOKEN_2 });
      // Asked for no stage, AWS returns AWSCURRENT's version.
      expect(await read()).toMatchObject({
        SecretString: awsOrMotoGap(backend.kind, 'secretsmanager.current-after-stage-move', {
          aws: 'v2',
          moto: 'v1',
        }),
      });
    });

    test('moving AWSCURRENT without naming the version that holds it is InvalidParameterException', async () => {
      await create('app/move', 'v1');
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/move',
          SecretString: 'v2',
          ClientRequestToken: TOKEN_2,
          VersionStages: ['AWSPENDING'],
        }),
      );
      await expect(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'app/move',
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: TOKEN_2,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('resource policies', () => {
    test('Put, Get and DeleteResourcePolicy', async () => {
      const { ARN } = await create('app/policy');
      const before = await sm.send(new GetResourcePolicyCommand({ SecretId: 'app/policy' }));
      expect(before).toMatchObject({ ARN, Name: 'app/policy' });
      expect(before.ResourcePolicy).toBeUndefined();

      const put = await sm.send(
        new PutResourcePolicyCommand({
          SecretId: 'app/policy',
          ResourcePolicy: POLICY,
          BlockPublicPolicy: true,
        }),
      );
      expect(put).toMatchObject({ ARN, Name: 'app/policy' });
      const got = await sm.send(new GetResourcePolicyCommand({ SecretId: ARN }));
      expect(JSON.parse(got.ResourcePolicy ?? '{}')).toEqual(JSON.parse(POLICY));

      const deleted = await sm.send(new DeleteResourcePolicyCommand({ SecretId: 'app/policy' }));
      expect(deleted).toMatchObject({ ARN, Name: 'app/policy' });
      expect(
        (await sm.send(new GetResourcePolicyCommand({ SecretId: 'app/policy' }))).ResourcePolicy,
      ).toBeUndefined();
      // Deleting again is not an error.
      await sm.send(new DeleteResourcePolicyCommand({ SecretId: 'app/policy' }));
    });

    test('a policy on an unknown secret is ResourceNotFoundException', async () => {
      await expect(
        sm.send(new PutResourcePolicyCommand({ SecretId: 'app/none', ResourcePolicy: POLICY })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(sm.send(new DeleteResourcePolicyCommand({ SecretId: 'app/none' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });

    test('BlockPublicPolicy refuses a policy open to everyone (PublicPolicyException)', async () => {
      await create('app/public');
      const attempt = sm.send(
        new PutResourcePolicyCommand({
          SecretId: 'app/public',
          ResourcePolicy: PUBLIC_POLICY,
          BlockPublicPolicy: true,
        }),
      );
      if (awsOrMotoGap(backend.kind, 'secretsmanager.block-public-policy', { aws: true, moto: false })) {
        await expect(attempt).rejects.toMatchObject({ name: 'PublicPolicyException' });
        expect(
          (await sm.send(new GetResourcePolicyCommand({ SecretId: 'app/public' }))).ResourcePolicy,
        ).toBeUndefined();
      } else {
        await expect(attempt).resolves.toMatchObject({ Name: 'app/public' });
      }
    });

    test('a policy that is not JSON is MalformedPolicyDocumentException', async () => {
      await create('app/malformed');
      const attempt = sm.send(
        new PutResourcePolicyCommand({ SecretId: 'app/malformed', ResourcePolicy: '{"Statement": [' }),
      );
      if (awsOrMotoGap(backend.kind, 'secretsmanager.malformed-policy', { aws: true, moto: false })) {
        await expect(attempt).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
      } else {
        await expect(attempt).resolves.toMatchObject({ Name: 'app/malformed' });
      }
    });
  });

  describe('tags', () => {
    test('TagResource adds and overwrites by key; UntagResource removes the keys named', async () => {
      await create('app/tags', 'v', { Tags: [{ Key: 'a', Value: '1' }] });
      await sm.send(
        new TagResourceCommand({
          SecretId: 'app/tags',
          Tags: [
            { Key: 'a', Value: '2' },
            { Key: 'b', Value: '3' },
            { Key: 'c', Value: '4' },
          ],
        }),
      );
      expect(sorted((await describeSecret('app/tags')).Tags)).toEqual([
        { Key: 'a', Value: '2' },
        { Key: 'b', Value: '3' },
        { Key: 'c', Value: '4' },
      ]);
      await sm.send(new UntagResourceCommand({ SecretId: 'app/tags', TagKeys: ['a', 'c', 'never-there'] }));
      expect(sorted((await describeSecret('app/tags')).Tags)).toEqual([{ Key: 'b', Value: '3' }]);
    });

    test('tagging an unknown secret is ResourceNotFoundException', async () => {
      await expect(
        sm.send(new TagResourceCommand({ SecretId: 'app/none', Tags: [{ Key: 'a', Value: '1' }] })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });

  describe('ListSecrets', () => {
    beforeEach(async () => {
      await create('svc/alpha', 'v', { Tags: [{ Key: 'trust-bridge:managed-by', Value: 'trust-bridge' }] });
      await create('svc/beta', 'v', { Tags: [{ Key: 'trust-bridge:service', Value: 'payments' }] });
      await create('other/gamma', 'v', { Tags: [{ Key: 'team', Value: 'trust-bridge' }] });
      await create('Svc/delta', 'v');
    });

    test('tag-key, tag-value and name filters match by case-sensitive prefix; filters combine with AND', async () => {
      expect(await listAll({ Filters: [{ Key: 'tag-key', Values: ['trust-bridge:'] }] })).toEqual([
        'svc/alpha',
        'svc/beta',
      ]);
      expect(await listAll({ Filters: [{ Key: 'tag-key', Values: ['trust-bridge:managed-by'] }] })).toEqual([
        'svc/alpha',
      ]);
      expect(await listAll({ Filters: [{ Key: 'tag-value', Values: ['trust'] }] })).toEqual([
        'other/gamma',
        'svc/alpha',
      ]);
      expect(await listAll({ Filters: [{ Key: 'name', Values: ['svc/'] }] })).toEqual([
        'svc/alpha',
        'svc/beta',
      ]);
      expect(await listAll({ Filters: [{ Key: 'name', Values: ['Svc/'] }] })).toEqual(['Svc/delta']);
      expect(await listAll({ Filters: [{ Key: 'name', Values: ['svc/', 'other/'] }] })).toEqual([
        'other/gamma',
        'svc/alpha',
        'svc/beta',
      ]);
      expect(
        await listAll({
          Filters: [
            { Key: 'name', Values: ['svc/'] },
            { Key: 'tag-key', Values: ['trust-bridge:service'] },
          ],
        }),
      ).toEqual(['svc/beta']);
    });

    test('MaxResults pages: every secret exactly once, no page larger than asked, no token after the last', async () => {
      await create('svc/epsilon', 'v');
      const seen: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await sm.send(new ListSecretsCommand({ MaxResults: 2, NextToken }));
        expect((page.SecretList ?? []).length).toBeLessThanOrEqual(2);
        seen.push(...(page.SecretList ?? []).map((s) => s.Name as string));
        NextToken = page.NextToken;
        pages += 1;
      } while (NextToken && pages < 10);
      expect(NextToken).toBeUndefined();
      expect(seen.sort()).toEqual(['Svc/delta', 'other/gamma', 'svc/alpha', 'svc/beta', 'svc/epsilon']);
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    test('a secret scheduled for deletion is listed only with IncludePlannedDeletion', async () => {
      await sm.send(new DeleteSecretCommand({ SecretId: 'svc/beta', RecoveryWindowInDays: 7 }));
      expect(await listAll({ Filters: [{ Key: 'name', Values: ['svc/'] }] })).toEqual(['svc/alpha']);
      const page = await sm.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: ['svc/beta'] }],
          IncludePlannedDeletion: true,
        }),
      );
      expect(page.SecretList?.map((s) => s.Name)).toEqual(['svc/beta']);
      expect(page.SecretList?.[0]?.DeletedDate).toBeInstanceOf(Date);
    });
  });

  describe('deletion and restore', () => {
    test('DeleteSecret with a recovery window: DeletionDate is the request plus the window; reads fail; RestoreSecret undoes it', async () => {
      const { ARN } = await create('app/gone', 'v1');
      const before = Date.now();
      const deleted = await sm.send(
        new DeleteSecretCommand({ SecretId: 'app/gone', RecoveryWindowInDays: 7 }),
      );
      const after = Date.now();
      expect(deleted).toMatchObject({ ARN, Name: 'app/gone' });
      const deletionMs = deleted.DeletionDate?.getTime() ?? 0;
      // moto keeps whole seconds: a second's slack either side.
      expect(deletionMs).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
      expect(deletionMs).toBeLessThanOrEqual(after + 7 * DAY_MS + 1000);

      const described = await describeSecret('app/gone');
      const deletedMs = described.DeletedDate?.getTime() ?? 0;
      const requestedAt = awsOrMotoGap(backend.kind, 'secretsmanager.deleted-date', {
        aws: 0,
        moto: 7 * DAY_MS,
      });
      expect(deletedMs).toBeGreaterThanOrEqual(before + requestedAt - 1000);
      expect(deletedMs).toBeLessThanOrEqual(after + requestedAt + 1000);

      await expect(sm.send(new GetSecretValueCommand({ SecretId: 'app/gone' }))).rejects.toMatchObject({
        name: 'InvalidRequestException',
      });
      await expect(
        sm.send(new DeleteSecretCommand({ SecretId: 'app/gone', RecoveryWindowInDays: 7 })),
      ).rejects.toMatchObject({ name: 'InvalidRequestException' });

      const restored = await sm.send(new RestoreSecretCommand({ SecretId: ARN }));
      expect(restored).toMatchObject({ ARN, Name: 'app/gone' });
      expect((await describeSecret('app/gone')).DeletedDate).toBeUndefined();
      expect(await sm.send(new GetSecretValueCommand({ SecretId: 'app/gone' }))).toMatchObject({
        SecretString: 'v1',
      });
    });

    test('a recovery window outside 7-30 days is InvalidParameterException and deletes nothing', async () => {
      await create('app/window');
      for (const RecoveryWindowInDays of [6, 31]) {
        await expect(
          sm.send(new DeleteSecretCommand({ SecretId: 'app/window', RecoveryWindowInDays })),
        ).rejects.toMatchObject({ name: 'InvalidParameterException' });
      }
      expect((await describeSecret('app/window')).DeletedDate).toBeUndefined();
    });

    test('CreateSecret on a name pending deletion is InvalidRequestException', async () => {
      await create('app/pending-deletion');
      await sm.send(new DeleteSecretCommand({ SecretId: 'app/pending-deletion', RecoveryWindowInDays: 7 }));
      const attempt = sm.send(
        new CreateSecretCommand({
          Name: 'app/pending-deletion',
          SecretString: 'new',
          ClientRequestToken: TOKEN_2,
        }),
      );
      await expect(attempt).rejects.toMatchObject({
        name: awsOrMotoGap(backend.kind, 'secretsmanager.create-over-pending-deletion', {
          aws: 'InvalidRequestException',
          moto: 'ResourceExistsException',
        }),
      });
    });

    test('PutSecretValue on a secret pending deletion is InvalidRequestException and adds no version', async () => {
      await create('app/put-deleted');
      await sm.send(new DeleteSecretCommand({ SecretId: 'app/put-deleted', RecoveryWindowInDays: 7 }));
      const attempt = sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/put-deleted',
          SecretString: 'v2',
          ClientRequestToken: TOKEN_2,
        }),
      );
      if (
        awsOrMotoGap(backend.kind, 'secretsmanager.put-value-on-pending-deletion', { aws: true, moto: false })
      ) {
        await expect(attempt).rejects.toMatchObject({ name: 'InvalidRequestException' });
        expect(Object.keys((await describeSecret('app/put-deleted')).VersionIdsToStages ?? {})).toEqual([
          TOKEN_1,
        ]);
      } else {
        await expect(attempt).resolves.toMatchObject({ VersionId: TOKEN_2 });
      }
    });

    test('an unknown secret is ResourceNotFoundException for reads, deletes and restores', async () => {
      for (const command of [
        new GetSecretValueCommand({ SecretId: 'app/none' }),
        new DescribeSecretCommand({ SecretId: 'app/none' }),
        new DeleteSecretCommand({ SecretId: 'app/none', RecoveryWindowInDays: 7 }),
        new RestoreSecretCommand({ SecretId: 'app/none' }),
      ]) {
        await expect(sm.send(command as GetSecretValueCommand)).rejects.toMatchObject({
          name: 'ResourceNotFoundException',
        });
      }
    });
  });
});
