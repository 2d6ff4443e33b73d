import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSvidStore } from '../../../../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import {
  InvalidConfiguration,
  SecretNotOwned,
  StoreThrottled,
  SvidUnavailable,
} from '../../../../../functions/shared/domain/errors';
import { decodeSpireSvidSecret, encodeSpireSvidSecret } from '../../../../../client/spiffe/spire-secret';
import { probeSecretsManager } from '../../../../../bench/secrets-manager-probe';
import { LocalSecretsManager } from '../../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import type { SvidWrite } from '../../../../../functions/shared/ports/svid-store/svid-store';
import type { StoredSvid } from '../../../../../functions/shared/domain/svid-secret';
import type { SpireSvidSecret } from '../../../../../client/spiffe/spire-secret';
import { certificateFacts } from '../../../../../functions/shared/domain/svid-certificate';
import { TestTrustDomains } from '../../../../support/test-svids';

const ISSUER = 'arn:aws:iam::000000000000:role/trust-bridge-issue-svid';
const NAME = 'trust-bridge/svid/prod/payments';
const ARN = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${NAME}-AbCdEf`;
const TOKEN = 'issuance-0123456789abcdef0123456789abcdef';

const write = (overrides: Partial<SvidWrite> = {}): SvidWrite => ({
  secretName: NAME,
  service: 'payments',
  environment: 'prod',
  accountId: '111122223333',
  readerRoles: ['payments-api', 'payments-worker'],
  issuanceToken: TOKEN,
  spiffeId: 'spiffe://example.org/prod/payments',
  serial: '0a1b2c',
  notAfter: '2030-01-02T00:00:00.000Z',
  secret: {
    spiffeID: 'spiffe://example.org/prod/payments',
    x509SVID: '-----BEGIN CERTIFICATE-----\nMIIBleaf\n-----END CERTIFICATE-----\n',
    x509SVIDKey: '-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n',
    bundle: '-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n',
    federatedBundles: {},
  },
  ...overrides,
});

const ownedTags = (w: SvidWrite, extra: Record<string, unknown> = {}) =>
  Object.entries({
    'trust-bridge:managed-by': 'trust-bridge',
    'spire-svid': 'true',
    'trust-bridge:spiffe-id': w.spiffeId,
    'trust-bridge:serial': w.serial,
    'trust-bridge:not-after': w.notAfter,
    'trust-bridge:service': w.service,
    'trust-bridge:environment': w.environment,
    'trust-bridge:account-id': w.accountId,
    ...extra,
  }).map(([Key, Value]) => ({ Key, Value }));

const notFound = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret.",
    $metadata: { httpStatusCode: 400 },
  });

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so it is seen through this narrower interface by the type checker only.
interface Behavior {
  resolves(response: object): Behavior;
  resolvesOnce(response: object): Behavior;
  rejects(error: Error): Behavior;
  rejectsOnce(error: Error): Behavior;
}
interface Stub {
  reset(): void;
  calls(): { args: [object] }[];
  on(command: abstract new (input: never) => object, input?: object): Behavior;
  commandCalls<I>(command: new (...input: never[]) => { input: I }): { args: [{ input: I }] }[];
}
const sm = mockClient(SecretsManagerClient as never) as unknown as Stub;
const store = () =>
  new SecretsManagerSvidStore(new SecretsManagerClient({}), {
    kmsKeyId: 'alias/svids',
    issuerRoleArn: ISSUER,
  });
const commandsSent = () => sm.calls().map((call) => call.args[0].constructor.name);

beforeEach(() => sm.reset());

/** A real X509-SVID, for the paths that read a stored version back to learn its certificate. */
let domains: TestTrustDomains;
let issued: { secret: SpireSvidSecret; serial: string; notAfter: string };
beforeAll(async () => {
  domains = await TestTrustDomains.create({ ca: 'example.org' });
  const secret = await domains.secret('ca', 'spiffe://example.org/prod/payments');
  issued = { secret, ...certificateFacts(secret.x509SVID) };
});
afterAll(() => domains.close());
const storedValue = (secret: SpireSvidSecret) => ({
  ARN,
  Name: NAME,
  SecretBinary: encodeSpireSvidSecret(secret),
});

/** The tags a finished first write of `w` leaves (commit included), as if `versionId` were its version. */
async function tagsAfterCreate(w: SvidWrite, versionId: string): Promise<{ Key: string; Value: string }[]> {
  sm.on(DescribeSecretCommand).rejects(notFound());
  sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME, VersionId: versionId });
  await store().put(w);
  const tags = new Map<string, string>();
  const created = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input.Tags ?? [];
  const tagged = sm.commandCalls(TagResourceCommand).flatMap((c) => c.args[0].input.Tags ?? []);
  for (const { Key, Value } of [...created, ...tagged]) tags.set(Key as string, Value as string);
  sm.reset();
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}
const tagValue = (tags: { Key?: string; Value?: string }[] | undefined, key: string) =>
  tags?.find((t) => t.Key === key)?.Value;
const PREVIOUS = 'previous-issuance-token-000000000000';
/** How DescribeSecret shows our SVID once it is scheduled for deletion. */
const scheduledForDeletion = (w: SvidWrite) => ({
  ARN,
  Name: NAME,
  DeletedDate: new Date('2030-01-01T00:00:00Z'),
  Tags: ownedTags(w),
  VersionIdsToStages: { [PREVIOUS]: ['AWSCURRENT'] },
});

describe('put: a new secret', () => {
  test('creates it as SPIRE would (SecretBinary JSON, spire-svid tag) with our token, key and tags, then the policy', async () => {
    sm.on(DescribeSecretCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME, VersionId: TOKEN });

    const w = write();
    await expect(store().put(w)).resolves.toEqual({
      arn: ARN,
      versionId: TOKEN,
      serial: w.serial,
      notAfter: w.notAfter,
    });

    expect(commandsSent()).toEqual([
      'DescribeSecretCommand',
      'CreateSecretCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
    const create = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(create).toEqual({
      Name: NAME,
      ClientRequestToken: TOKEN,
      KmsKeyId: 'alias/svids',
      SecretBinary: encodeSpireSvidSecret(w.secret),
      Tags: ownedTags(w),
    });
    const policy = sm.commandCalls(PutResourcePolicyCommand)[0]?.args[0].input;
    expect(policy).toMatchObject({ SecretId: ARN, BlockPublicPolicy: true });
    expect(JSON.parse(policy?.ResourcePolicy as string)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EnrolledReadersMayRead',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: '*',
          Condition: {
            ArnEquals: {
              'aws:PrincipalArn': [
                'arn:aws:iam::111122223333:role/payments-api',
                'arn:aws:iam::111122223333:role/payments-worker',
              ],
            },
          },
        },
        {
          Sid: 'NoOneElseMayRead',
          Effect: 'Deny',
          Principal: '*',
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
          Condition: {
            ArnNotEquals: {
              'aws:PrincipalArn': [
                'arn:aws:iam::111122223333:role/payments-api',
                'arn:aws:iam::111122223333:role/payments-worker',
                ISSUER,
              ],
            },
          },
        },
      ],
    });
    // Written last, in one call: the policy's digest and the commit naming the version and the tags.
    const digestTag = sm.commandCalls(TagResourceCommand)[0]?.args[0].input;
    expect(digestTag).toEqual({
      SecretId: ARN,
      Tags: [
        { Key: 'trust-bridge:readers-digest', Value: expect.stringMatching(/^[0-9a-f]{64}$/) },
        {
          Key: 'trust-bridge:committed',
          Value: expect.stringMatching(new RegExp(`^${TOKEN}/[0-9a-f]{64}$`)),
        },
      ],
    });
  });

  test('with no reader roles, the policy lets no one but the issuer read', async () => {
    sm.on(DescribeSecretCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME, VersionId: TOKEN });
    await store().put(write({ readerRoles: [] }));
    const policy = JSON.parse(
      sm.commandCalls(PutResourcePolicyCommand)[0]?.args[0].input.ResourcePolicy as string,
    );
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [ISSUER] } },
      }),
    ]);
  });

  test('a secret created by another writer meanwhile is updated instead', async () => {
    const w = write();
    sm.on(DescribeSecretCommand)
      .rejectsOnce(notFound())
      .resolves({ ARN, Name: NAME, Tags: ownedTags(w), VersionIdsToStages: { other: ['AWSCURRENT'] } });
    sm.on(CreateSecretCommand).rejects(
      new ResourceExistsException({ message: 'already exists', $metadata: { httpStatusCode: 400 } }),
    );
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });
    await expect(store().put(w)).resolves.toMatchObject({ arn: ARN, versionId: TOKEN });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
  });
});

describe("put: a first issuance the plan's listing shows nothing for", () => {
  test('creates the secret at once: CreateSecret, the policy, the commit; no describe', async () => {
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME, VersionId: TOKEN });
    await store().put({ ...write(), listing: {} });
    expect(commandsSent()).toEqual(['CreateSecretCommand', 'PutResourcePolicyCommand', 'TagResourceCommand']);
  });

  test.each([
    [
      'created since (ResourceExistsException)',
      new ResourceExistsException({ message: 'exists', $metadata: {} }),
    ],
    [
      'scheduled for deletion since (InvalidRequestException)',
      new InvalidRequestException({ message: 'scheduled for deletion', $metadata: {} }),
    ],
  ])('a name %s: the write describes it and carries on as an update', async (_, refusal) => {
    const w = write();
    sm.on(CreateSecretCommand).rejects(refusal);
    sm.on(DescribeSecretCommand).resolves(scheduledForDeletion(w));
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });
    await store().put({ ...w, listing: {} });
    expect(commandsSent()).toEqual([
      'CreateSecretCommand',
      'DescribeSecretCommand',
      'RestoreSecretCommand',
      'PutSecretValueCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
  });

  test('a foreign secret under the name is still refused, untouched', async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    sm.on(DescribeSecretCommand).resolves({ ARN, Name: NAME, Tags: [{ Key: 'owner', Value: 'someone' }] });
    await expect(store().put({ ...write(), listing: {} })).rejects.toThrow(SecretNotOwned);
    expect(commandsSent()).toEqual(['CreateSecretCommand', 'DescribeSecretCommand']);
  });
});

describe('put: an existing secret', () => {
  test('writes a new version with the token and retags only what changed; the policy stays when readers did not change', async () => {
    const w = write();
    const previous = await tagsAfterCreate(
      write({ serial: 'old', notAfter: '2029-12-31T00:00:00.000Z' }),
      PREVIOUS,
    );
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: previous,
      VersionIdsToStages: { [PREVIOUS]: ['AWSCURRENT'] },
    });
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    await expect(store().put(w)).resolves.toMatchObject({ arn: ARN, versionId: TOKEN });

    expect(commandsSent()).toEqual(['DescribeSecretCommand', 'PutSecretValueCommand', 'TagResourceCommand']);
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      ClientRequestToken: TOKEN,
      SecretBinary: encodeSpireSvidSecret(w.secret),
    });
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      Tags: [
        { Key: 'trust-bridge:serial', Value: '0a1b2c' },
        { Key: 'trust-bridge:not-after', Value: '2030-01-02T00:00:00.000Z' },
        { Key: 'trust-bridge:committed', Value: expect.stringMatching(new RegExp(`^${TOKEN}/`)) },
      ],
    });
  });

  test('rewrites the policy, then its digest, when the reader roles changed', async () => {
    const w = write();
    const before = await tagsAfterCreate(w, PREVIOUS);
    const digest = tagValue(before, 'trust-bridge:readers-digest') as string;
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: before,
      VersionIdsToStages: { [PREVIOUS]: ['AWSCURRENT'] },
    });
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    await store().put(write({ readerRoles: ['payments-api'] }));

    expect(commandsSent()).toEqual([
      'DescribeSecretCommand',
      'PutSecretValueCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
    const tags = sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags;
    expect(tags).toEqual([
      { Key: 'trust-bridge:readers-digest', Value: expect.not.stringMatching(digest) },
      { Key: 'trust-bridge:committed', Value: expect.stringMatching(new RegExp(`^${TOKEN}/`)) },
    ]);
  });

  test('restores a secret scheduled for deletion before writing, as SPIRE does', async () => {
    const w = write();
    const before = await tagsAfterCreate(w, PREVIOUS);
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      DeletedDate: new Date('2030-01-01T00:00:00Z'),
      Tags: before,
      VersionIdsToStages: { [PREVIOUS]: ['AWSCURRENT'] },
    });
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    await store().put(w);

    expect(commandsSent()).toEqual([
      'DescribeSecretCommand',
      'RestoreSecretCommand',
      'PutSecretValueCommand',
      'TagResourceCommand',
    ]);
    expect(sm.commandCalls(RestoreSecretCommand)[0]?.args[0].input).toEqual({ SecretId: ARN });
  });

  test('a secret without our marker is refused, named, and left untouched', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: [{ Key: 'spire-svid', Value: 'true' }],
      DeletedDate: new Date(),
    });
    const attempt = store().put(write());
    await expect(attempt).rejects.toThrow(SecretNotOwned);
    await expect(attempt).rejects.toThrow(NAME);
    expect(commandsSent()).toEqual(['DescribeSecretCommand']);
  });
});

describe('put: retries of the same issuance', () => {
  test("a retry after the value was written makes no second version, and tags the stored version's certificate", async () => {
    // The retry issued a certificate of its own; the version the first attempt stored holds another.
    const w = write();
    const before = await tagsAfterCreate(write({ serial: 'old' }), PREVIOUS);
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: before,
      VersionIdsToStages: { [TOKEN]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] },
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN }).resolves(storedValue(issued.secret));
    await expect(store().put(w)).resolves.toEqual({
      arn: ARN,
      versionId: TOKEN,
      serial: issued.serial,
      notAfter: issued.notAfter,
    });
    // The commit names the previous version, so it vouches for no policy: the policy is written again.
    expect(commandsSent()).toEqual([
      'DescribeSecretCommand',
      'GetSecretValueCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
    const tags = sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags;
    expect(tagValue(tags, 'trust-bridge:serial')).toBe(issued.serial);
    expect(tagValue(tags, 'trust-bridge:not-after')).toBe(issued.notAfter);
    expect(tagValue(tags, 'trust-bridge:committed')).toMatch(new RegExp(`^${TOKEN}/`));
  });

  test('the same token with a different value (a re-encoded retry) counts as done, without throwing', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: ownedTags(write({ serial: 'newer' })),
      VersionIdsToStages: { 'later-issuance-token-0000000000000': ['AWSCURRENT'] },
    });
    sm.on(PutSecretValueCommand).rejects(
      new ResourceExistsException({
        message: `You can't use ClientRequestToken ${TOKEN} because that value is already in use for a version of secret ${ARN}.`,
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(store().put(write())).resolves.toMatchObject({ arn: ARN, versionId: TOKEN });
    expect(commandsSent()).toEqual(['DescribeSecretCommand', 'PutSecretValueCommand']);
  });

  test('a replay of an issuance that a later one replaced changes nothing (never goes backwards)', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: ownedTags(write({ serial: 'newer' })),
      VersionIdsToStages: { [TOKEN]: ['AWSPREVIOUS'], 'later-issuance-token-0000000000000': ['AWSCURRENT'] },
    });
    await store().put(write());
    expect(commandsSent()).toEqual(['DescribeSecretCommand']);
  });
});

describe("put: a renewal on the plan's listing", () => {
  /** The SVID as the plan lists it, complete: written for `w`'s readers with version PREVIOUS current. */
  const listing = async (w: SvidWrite): Promise<StoredSvid> => {
    const tags = await tagsAfterCreate(write({ serial: 'old', readerRoles: w.readerRoles }), PREVIOUS);
    sm.on(ListSecretsCommand).resolves({
      SecretList: [{ ARN, Name: NAME, Tags: tags, SecretVersionsToStages: { [PREVIOUS]: ['AWSCURRENT'] } }],
    });
    const [listed] = await store().listOwned();
    sm.reset();
    return listed as StoredSvid;
  };
  const exists = () =>
    new ResourceExistsException({
      message: `You can't use ClientRequestToken ${TOKEN} because that value is already in use for a version of secret ${ARN}.`,
      $metadata: { httpStatusCode: 400 },
    });

  test('takes two calls: the new version, then the commit with every tag; no describe, no read', async () => {
    const w = write();
    const listed = await listing(w);
    sm.on(PutSecretValueCommand).resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });

    await expect(store().put({ ...w, listing: { svid: listed } })).resolves.toEqual({
      arn: ARN,
      versionId: TOKEN,
      serial: w.serial,
      notAfter: w.notAfter,
    });

    expect(commandsSent()).toEqual(['PutSecretValueCommand', 'TagResourceCommand']);
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      ClientRequestToken: TOKEN,
      SecretBinary: encodeSpireSvidSecret(w.secret),
    });
    const tags = sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags;
    // The same tags a first write of this certificate leaves, so the plan after it takes the SVID as complete.
    const expected = await tagsAfterCreate(w, TOKEN);
    expect(new Map(tags?.map((t) => [t.Key, t.Value]))).toEqual(
      new Map(expected.map((t) => [t.Key, t.Value])),
    );
  });

  test.each([
    ['not complete', (l: StoredSvid) => ({ ...l, committed: false }), write()],
    ['for other readers', (l: StoredSvid) => l, write({ readerRoles: ['someone-else'] })],
    ['scheduled for deletion', (l: StoredSvid) => ({ ...l, deletedAt: '2030-01-01T00:00:00.000Z' }), write()],
    ['of another secret', (l: StoredSvid) => ({ ...l, secretName: 'trust-bridge/svid/prod/other' }), write()],
  ])('a listing %s is not trusted: the write describes the secret first', async (_, change, w) => {
    const listed = change(await listing(write()));
    sm.on(DescribeSecretCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN, Name: NAME, VersionId: TOKEN });
    await store().put({ ...w, listing: { svid: listed } });
    expect(commandsSent()[0]).toBe('DescribeSecretCommand');
  });

  test.each([
    [
      'scheduled for deletion since',
      new InvalidRequestException({ message: 'marked for deletion', $metadata: {} }),
    ],
    ['deleted since', notFound()],
  ])('a secret %s: the write falls back to describing it, and finishes there', async (_, refusal) => {
    const w = write();
    const listed = await listing(w);
    sm.on(PutSecretValueCommand)
      .rejectsOnce(refusal)
      .resolves({ ARN, VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });
    sm.on(DescribeSecretCommand).resolves(scheduledForDeletion(w));
    await store().put({ ...w, listing: { svid: listed } });
    expect(commandsSent()).toEqual([
      'PutSecretValueCommand',
      'DescribeSecretCommand',
      'RestoreSecretCommand',
      'PutSecretValueCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
  });

  test("a retry whose earlier attempt stored the version: no second version, the stored certificate's tags", async () => {
    const w = write();
    const listed = await listing(w);
    sm.on(PutSecretValueCommand).rejects(exists());
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: ownedTags(w),
      VersionIdsToStages: { [TOKEN]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] },
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN }).resolves(storedValue(issued.secret));

    await expect(store().put({ ...w, listing: { svid: listed } })).resolves.toMatchObject({
      serial: issued.serial,
      notAfter: issued.notAfter,
    });
    expect(commandsSent()).toEqual([
      'PutSecretValueCommand',
      'DescribeSecretCommand',
      'GetSecretValueCommand',
      'PutResourcePolicyCommand',
      'TagResourceCommand',
    ]);
    expect(tagValue(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags, 'trust-bridge:serial')).toBe(
      issued.serial,
    );
  });
});

describe('find', () => {
  test('reads the SVID from tags and tells whether this token wrote a version', async () => {
    const w = write();
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: ownedTags(w),
      VersionIdsToStages: { [TOKEN]: ['AWSCURRENT'] },
    });
    // No commit vouches for the tags: which certificate is current, only the value tells.
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN }).resolves(storedValue(issued.secret));
    const expected = {
      secretName: NAME,
      arn: ARN,
      spiffeId: w.spiffeId,
      serial: w.serial,
      notAfter: w.notAfter,
      service: 'payments',
      environment: 'prod',
      accountId: '111122223333',
      readersDigest: '',
      committed: false,
      current: { versionId: TOKEN, spiffeId: w.spiffeId, serial: issued.serial, notAfter: issued.notAfter },
    };
    await expect(store().find(NAME, TOKEN)).resolves.toEqual({ ...expected, writtenByToken: true });
    await expect(store().find(NAME, 'another-token-000000000000000000000')).resolves.toEqual({
      ...expected,
      writtenByToken: false,
    });
    await expect(store().find(NAME)).resolves.toEqual({ ...expected, writtenByToken: false });
    expect(commandsSent()).toEqual(Array(3).fill(['DescribeSecretCommand', 'GetSecretValueCommand']).flat());
  });

  test('a committed SVID is told from its tags alone; a current value that is not an SVID leaves it unknown', async () => {
    const w = write();
    const committed = await tagsAfterCreate(w, TOKEN);
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: committed,
      VersionIdsToStages: { [TOKEN]: ['AWSCURRENT'] },
    });
    await expect(store().find(NAME)).resolves.toMatchObject({
      committed: true,
      current: { versionId: TOKEN, serial: w.serial, notAfter: w.notAfter },
    });
    expect(commandsSent()).toEqual(['DescribeSecretCommand']);

    sm.reset();
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      Tags: ownedTags(w),
      VersionIdsToStages: { other: ['AWSCURRENT'] },
    });
    sm.on(GetSecretValueCommand).resolves({ ARN, Name: NAME, SecretString: 'not an SVID' });
    const found = await store().find(NAME);
    expect(found?.committed).toBe(false);
    expect(found?.current).toBeUndefined();
  });

  test('is undefined for a missing secret and refuses a foreign one', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'missing' }).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: 'foreign' }).resolves({ ARN, Name: 'foreign', Tags: [] });
    await expect(store().find('missing')).resolves.toBeUndefined();
    await expect(store().find('foreign')).rejects.toThrow(SecretNotOwned);
  });
});

describe('listOwned', () => {
  test('pages through ListSecrets filtered on our marker, 100 at a time, from tags only', async () => {
    const w = write();
    sm.on(ListSecretsCommand)
      .resolvesOnce({
        SecretList: [
          { ARN, Name: NAME, Tags: ownedTags(w) },
          // The tag-key filter matches prefixes: a look-alike key is not ours.
          {
            ARN: `${ARN}x`,
            Name: 'lookalike',
            Tags: [{ Key: 'trust-bridge:managed-by-x', Value: 'trust-bridge' }],
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        SecretList: [
          {
            ARN: `${ARN}2`,
            Name: `${NAME}2`,
            DeletedDate: new Date('2030-01-01T00:00:00.000Z'),
            Tags: ownedTags(write({ service: 'ledger' })),
          },
        ],
      });

    const owned = await store().listOwned();

    expect(owned.map((s) => [s.secretName, s.service, s.deletedAt])).toEqual([
      [NAME, 'payments', undefined],
      [`${NAME}2`, 'ledger', '2030-01-01T00:00:00.000Z'],
    ]);
    const inputs = sm.commandCalls(ListSecretsCommand).map((c) => c.args[0].input);
    const filter = {
      Filters: [{ Key: 'tag-key', Values: ['trust-bridge:managed-by'] }],
      MaxResults: 100,
      IncludePlannedDeletion: true,
    };
    expect(inputs).toEqual([
      { ...filter, NextToken: undefined },
      { ...filter, NextToken: 'page-2' },
    ]);
    expect(commandsSent()).toEqual(['ListSecretsCommand', 'ListSecretsCommand']);
  });
});

describe('retire', () => {
  test('schedules deletion with the recovery window', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN, Name: NAME, Tags: ownedTags(write()) });
    sm.on(DeleteSecretCommand).resolves({
      ARN,
      Name: NAME,
      DeletionDate: new Date('2030-01-08T00:00:00.000Z'),
    });
    await expect(store().retire(NAME, 7)).resolves.toEqual({ deletionDate: '2030-01-08T00:00:00.000Z' });
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      RecoveryWindowInDays: 7,
    });
  });

  test('does nothing for a secret already scheduled, missing, or not ours', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'scheduled' }).resolves({
      ARN,
      Name: 'scheduled',
      Tags: ownedTags(write()),
      DeletedDate: new Date('2030-01-01T00:00:00.000Z'),
    });
    sm.on(DescribeSecretCommand, { SecretId: 'missing' }).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: 'foreign' }).resolves({ ARN, Name: 'foreign' });
    await expect(store().retire('scheduled', 7)).resolves.toEqual({
      deletionDate: '2030-01-08T00:00:00.000Z',
    });
    await expect(store().retire('missing', 7)).resolves.toBeUndefined();
    await expect(store().retire('foreign', 7)).rejects.toThrow(SecretNotOwned);
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
  });
});

describe('read', () => {
  test('asks for the AWSCURRENT version of the name or ARN it is given', async () => {
    sm.on(GetSecretValueCommand).resolves({
      ARN,
      Name: NAME,
      SecretBinary: encodeSpireSvidSecret(write().secret),
    });
    await expect(store().read(ARN)).resolves.toEqual(write().secret);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      VersionStage: 'AWSCURRENT',
    });
  });
});

describe('errors', () => {
  const serviceError = (name: string, httpStatusCode: number, extra: object = {}) =>
    Object.assign(
      new SecretsManagerServiceException({
        name,
        $fault: 'server',
        $metadata: { httpStatusCode },
        message: name,
      }),
      extra,
    );

  test.each([
    ['ThrottlingException', serviceError('ThrottlingException', 400)],
    ['InternalServiceError', serviceError('InternalServiceError', 500)],
    ['any 5xx', serviceError('ServiceUnavailable', 503)],
    ['a retryable error', serviceError('SlowDown', 400, { $retryable: { throttling: true } })],
  ])('%s becomes StoreThrottled', async (_, error) => {
    sm.on(DescribeSecretCommand).rejects(error);
    const attempt = store().find(NAME);
    await expect(attempt).rejects.toThrow(StoreThrottled);
    await expect(attempt).rejects.toMatchObject({ name: 'StoreThrottled', cause: error });
  });

  test('other errors propagate unchanged', async () => {
    const denied = serviceError('AccessDeniedException', 400);
    sm.on(DescribeSecretCommand).rejects(denied);
    await expect(store().retire(NAME, 7)).rejects.toBe(denied);
  });

  test('an issuer role outside the central account is a configuration error', () => {
    const client = new SecretsManagerClient({});
    expect(
      () =>
        new SecretsManagerSvidStore(client, {
          kmsKeyId: 'k',
          issuerRoleArn: ISSUER,
          centralAccountId: '999999999999',
        }),
    ).toThrow(InvalidConfiguration);
    expect(() => new SecretsManagerSvidStore(client, { kmsKeyId: 'k', issuerRoleArn: 'not-an-arn' })).toThrow(
      InvalidConfiguration,
    );
  });
});

describe('on the local Secrets Manager', () => {
  let dataDir: string;
  let local: LocalSecretsManager;
  let localStore: SecretsManagerSvidStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'svid-store-'));
    local = new LocalSecretsManager({ dataDir, accountId: '000000000000' });
    localStore = new SecretsManagerSvidStore(local, { kmsKeyId: 'alias/svids', issuerRoleArn: ISSUER });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test('writes, re-writes idempotently, reads back and retires', async () => {
    const first = await localStore.put(write());
    const again = await localStore.put(write({ secret: { ...write().secret, x509SVIDKey: 'regenerated' } }));
    expect(again).toEqual(first);
    const value = await local.send(new GetSecretValueCommand({ SecretId: NAME }));
    expect(value.VersionId).toBe(TOKEN);
    expect(decodeSpireSvidSecret(value.SecretBinary as Uint8Array)).toEqual(write().secret);

    const next = 'issuance-fedcba9876543210fedcba9876543210';
    await localStore.put(write({ issuanceToken: next, serial: 'ff' }));
    await expect(localStore.find(NAME, next)).resolves.toMatchObject({ serial: 'ff', writtenByToken: true });
    await expect(localStore.find(NAME, TOKEN)).resolves.toMatchObject({ writtenByToken: true });

    const retired = await localStore.retire(NAME, 7);
    expect((await localStore.listOwned())[0]?.deletedAt).toBeDefined();
    await expect(localStore.retire(NAME, 7)).resolves.toEqual(retired);
    await localStore.put(write({ issuanceToken: 'issuance-after-retirement-0000000000000', serial: 'aa' }));
    await expect(localStore.find(NAME)).resolves.toMatchObject({ serial: 'aa' });
    expect((await localStore.listOwned())[0]?.deletedAt).toBeUndefined();
  });

  test('read returns what put wrote, by name or by full ARN (as the agent reads it across accounts)', async () => {
    const { arn } = await localStore.put(write());
    await expect(localStore.read(NAME)).resolves.toEqual(write().secret);
    await expect(localStore.read(arn)).resolves.toEqual(write().secret);

    const renewed = {
      ...write().secret,
      x509SVID: '-----BEGIN CERTIFICATE-----\nMIIBnext\n-----END CERTIFICATE-----\n',
    };
    await localStore.put(
      write({ issuanceToken: 'issuance-fedcba9876543210fedcba9876543210', secret: renewed }),
    );
    await expect(localStore.read(arn)).resolves.toEqual(renewed);
  });

  test('read of an SVID never issued, or scheduled for deletion, is SvidUnavailable', async () => {
    const never = localStore.read('trust-bridge/svid/prod/unknown');
    await expect(never).rejects.toThrow(SvidUnavailable);
    await expect(never).rejects.toThrow(
      /trust-bridge\/svid\/prod\/unknown: not issued yet, or scheduled for deletion/,
    );

    const { arn } = await localStore.put(write());
    await localStore.retire(NAME, 7);
    await expect(localStore.read(arn)).rejects.toThrow(SvidUnavailable);
    await expect(localStore.read(NAME)).rejects.toMatchObject({ name: 'SvidUnavailable' });
  });

  test('read maps throttling to StoreThrottled, not to SvidUnavailable', async () => {
    await localStore.put(write());
    probeSecretsManager(local).failNext(
      'GetSecretValue',
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    await expect(localStore.read(NAME)).rejects.toThrow(StoreThrottled);
    await expect(localStore.read(NAME)).resolves.toEqual(write().secret);
  });

  test('lists 250 owned secrets in 3 calls, and never counts a foreign one', async () => {
    for (let i = 0; i < 250; i++)
      await localStore.put(write({ secretName: `${NAME}-${i}`, service: `s${i}` }));
    await local.send(
      new CreateSecretCommand({ Name: 'foreign', SecretString: 'x', Tags: [{ Key: 'team', Value: 'x' }] }),
    );
    const { calls } = probeSecretsManager(local);
    const before = calls.ListSecrets ?? 0;
    expect(await localStore.listOwned()).toHaveLength(250);
    expect((calls.ListSecrets ?? 0) - before).toBe(3);
  });
});
