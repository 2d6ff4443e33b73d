import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  type DescribeSecretCommandOutput,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretListEntry,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfiguration, StoreThrottled, SvidUnavailable } from '../../domain/errors';
import { certificateFacts } from '../../domain/svid-certificate';
import {
  decodeSpireSvidSecret,
  encodeSpireSvidSecret,
  type SpireSvidSecret,
} from '../../../../client/spiffe/spire-secret';
import { MANAGED_BY_VALUE, SPIRE_SVID_VALUE, type StoredSvid, SVID_TAG } from '../../domain/svid-secret';
import type { SecretsManagerApi } from '../../aws/clients';
import { pages } from '../../aws/pages';
import {
  isOwned,
  ownedTags,
  tagMap,
  transient,
  scheduleDeletion,
  describeSecret,
} from '../../aws/secrets-manager-calls';
import type {
  CurrentCertificate,
  StoredIssuance,
  SvidPlacement,
  SvidRepair,
  SvidRepairs,
  SvidStore,
  SvidWrite,
} from './svid-store';

/** Writing needs the key and the issuer role; a store that only lists, reads or retires goes without them. */
export interface SecretsManagerSvidStoreOptions {
  /** The customer-managed key the secrets are encrypted with (cross-account reads need one). */
  kmsKeyId?: string;
  /** The role that writes SVIDs: the only principal besides the readers allowed to read them. */
  issuerRoleArn?: string;
  /** The account holding the secrets; when given, the issuer role must belong to it. */
  centralAccountId?: string;
  /** `aws` unless in GovCloud or China. */
  partition?: string;
}

const CURRENT = 'AWSCURRENT';
const MAX_REMEMBERED = 1000;

/**
 * SVIDs in the central account's Secrets Manager, written exactly as SPIRE's aws_secretsmanager store
 * writes them, so functions read them with SPIRE's tooling. Works against the SDK client on AWS and
 * against LocalSecretsManager at home.
 */
export class SecretsManagerSvidStore implements SvidStore {
  private readonly partition: string;
  /**
   * What `find` just described, for the `put` of the same issuance that follows it: saves a second
   * DescribeSecret per issuance. Bounded, and each entry is used once.
   */
  private readonly described = new Map<string, DescribeSecretCommandOutput | undefined>();

  constructor(
    private readonly client: SecretsManagerApi,
    private readonly options: SecretsManagerSvidStoreOptions,
  ) {
    this.partition = options.partition ?? 'aws';
    if (options.issuerRoleArn === undefined) return;
    const issuerAccount = options.issuerRoleArn.split(':')[4];
    if (!/^arn:[\w-]+:iam::\d{12}:role\/.+$/.test(options.issuerRoleArn)) {
      throw new InvalidConfiguration(`issuer role "${options.issuerRoleArn}" is not an IAM role ARN`);
    }
    if (options.centralAccountId !== undefined && issuerAccount !== options.centralAccountId) {
      throw new InvalidConfiguration(
        `issuer role ${options.issuerRoleArn} is not in the central account ${options.centralAccountId}`,
      );
    }
  }

  /** The settings only a writer has: a read-only store that is asked to write is misconfigured. */
  private writer(): { kmsKeyId: string; issuerRoleArn: string } {
    const { kmsKeyId } = this.options;
    if (kmsKeyId === undefined) {
      throw new InvalidConfiguration(
        'this SVID store was opened read-only: writing needs a KMS key and the issuer role',
      );
    }
    return { kmsKeyId, issuerRoleArn: this.issuer() };
  }

  /** The issuer role, which every SVID's policy names: needed to write a policy or to judge one. */
  private issuer(): string {
    const { issuerRoleArn } = this.options;
    if (issuerRoleArn === undefined) {
      throw new InvalidConfiguration(
        'this SVID store was opened without the issuer role (ISSUER_ROLE_ARN): it cannot write or judge resource policies',
      );
    }
    return issuerRoleArn;
  }

  async listOwned(): Promise<StoredSvid[]> {
    const owned: StoredSvid[] = [];
    const list = (NextToken: string | undefined) =>
      transient('ListSecrets', () =>
        this.client.send(
          new ListSecretsCommand({
            Filters: [{ Key: 'tag-key', Values: [SVID_TAG.managedBy] }],
            MaxResults: 100,
            IncludePlannedDeletion: true,
            NextToken,
          }),
        ),
      );
    for await (const page of pages(list, (page) => page.NextToken)) {
      for (const entry of page.SecretList ?? []) {
        const tags = tagMap(entry.Tags);
        // The tag-key filter matches by prefix: keep only our exact marker.
        if (isOwned(tags)) owned.push(storedSvid(entry, tags, entry.SecretVersionsToStages));
      }
    }
    return owned;
  }

  async find(
    secretName: string,
    issuanceToken?: string,
  ): Promise<(StoredSvid & { writtenByToken: boolean; current?: CurrentCertificate }) | undefined> {
    const described = await this.describe(secretName);
    if (this.described.size >= MAX_REMEMBERED) this.described.clear();
    this.described.set(secretName, described);
    if (!described) return undefined;
    const tags = ownedTags(secretName, described.Tags);
    const stages = described.VersionIdsToStages ?? {};
    const version = currentVersion(stages);
    const current =
      committedCertificate(tags, stages) ??
      (described.DeletedDate ? undefined : await this.heldCertificate(described.ARN as string, version));
    return {
      ...storedSvid(described, tags, stages),
      writtenByToken: issuanceToken !== undefined && Object.hasOwn(stages, issuanceToken),
      ...(current && { current }),
    };
  }

  /**
   * The current value, by name or by full ARN (the sync agent reads its SVID across accounts, which
   * needs the ARN). Throws SvidUnavailable when there is none: never issued, or scheduled for deletion.
   */
  async read(secretId: string, versionId?: string): Promise<SpireSvidSecret> {
    let value: { SecretBinary?: Uint8Array; SecretString?: string };
    const version = versionId === undefined ? { VersionStage: CURRENT } : { VersionId: versionId };
    try {
      value = await transient('GetSecretValue', () =>
        this.client.send(new GetSecretValueCommand({ SecretId: secretId, ...version })),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException || error instanceof InvalidRequestException) {
        throw new SvidUnavailable(
          `no readable SVID in ${secretId}: not issued yet, or scheduled for deletion (${error.name})`,
          { cause: error },
        );
      }
      throw error;
    }
    const bytes = value.SecretBinary ?? new TextEncoder().encode(value.SecretString ?? '');
    return decodeSpireSvidSecret(bytes);
  }

  /**
   * The certificate a version holds, read from its value: the one case a writer reads an SVID, a version no
   * commit describes (a write cut off after its value). Undefined when it is gone or is not an SVID.
   */
  private async heldCertificate(
    arn: string,
    versionId: string | undefined,
  ): Promise<CurrentCertificate | undefined> {
    if (versionId === undefined) return undefined;
    try {
      return { versionId, ...certificateFacts((await this.read(arn, versionId)).x509SVID) };
    } catch (error) {
      // Unreadable as an SVID: unknown, so the caller issues a new one. Throttling is retried instead.
      if (error instanceof StoreThrottled) throw error;
      return undefined;
    }
  }

  isComplete(svid: StoredSvid, placement: SvidPlacement): boolean {
    return (
      svid.committed &&
      svid.readersDigest === digest(this.policyFor(placement.accountId, placement.readerRoles))
    );
  }

  async policy(secretId: string): Promise<string | undefined> {
    const answer = await transient('GetResourcePolicy', () =>
      this.client.send(new GetResourcePolicyCommand({ SecretId: secretId })),
    );
    return answer.ResourcePolicy;
  }

  async repair(repair: SvidRepair): Promise<{ repaired: SvidRepairs }> {
    const described = await this.describedOnce(repair.secretName);
    if (!described) throw new SvidUnavailable(`no SVID secret ${repair.secretName} to repair`);
    const current = ownedTags(repair.secretName, described.Tags);
    const stages = described.VersionIdsToStages ?? {};
    // A write since `find` owns the secret now: it commits its own version.
    if (currentVersion(stages) !== repair.versionId) return { repaired: [] };
    const arn = described.ARN as string;
    const policy = this.policyFor(repair.accountId, repair.readerRoles);
    const committed = isCommitted(current, stages);
    let policyRewritten = false;
    if (!committed || current.get(SVID_TAG.readersDigest) !== digest(policy)) {
      // Unknown (the commit does not vouch for it) or changed: rewritten only when it differs.
      if ((await this.policy(arn)) !== policy) {
        // The commit vouches for the policy its digest names: it goes before the policy changes.
        if (committed) await this.uncommit(arn);
        await this.putPolicy(arn, policy);
        policyRewritten = true;
      }
    }
    const changed = await this.commit(arn, repair.versionId, svidTags(repair), policy, current);
    const repaired: SvidRepairs = [];
    if (policyRewritten) repaired.push('policy');
    if (changed.some(([key]) => key !== SVID_TAG.committed)) repaired.push('tags');
    return { repaired };
  }

  async put(write: SvidWrite): Promise<StoredIssuance> {
    const value = encodeSpireSvidSecret(write.secret);
    const policy = this.policyFor(write.accountId, write.readerRoles);
    const { listing } = write;
    const renewed = listing?.svid && (await this.renewListed(write, listing.svid, value, policy));
    if (renewed) return renewed;
    // Nothing listed under this name: a first issuance, created at once.
    const described = listing && !listing.svid ? undefined : await this.describedOnce(write.secretName);
    if (described) return this.update(described, write, value, policy);
    try {
      return await this.create(write, value, policy);
    } catch (error) {
      // Another writer created it since our describe or the plan's listing, or it was retired since: carry on as
      // an update (which restores it).
      const taken = error instanceof ResourceExistsException || error instanceof InvalidRequestException;
      const again = taken ? await this.describe(write.secretName) : undefined;
      if (!again) throw error;
      return this.update(again, write, value, policy);
    }
  }

  /**
   * Schedules deletion. For a secret already scheduled, Secrets Manager tells only when deletion was
   * requested, so the date returned is that plus `recoveryWindowDays`.
   */
  async retire(
    secretName: string,
    recoveryWindowDays: number,
  ): Promise<{ deletionDate: string } | undefined> {
    this.described.delete(secretName);
    const described = await this.describe(secretName);
    if (!described) return undefined;
    return scheduleDeletion(this.client, secretName, described, recoveryWindowDays);
  }

  /**
   * A renewal of an SVID the plan listed complete, with the policy it needs: the new version, then the commit,
   * and no DescribeSecret. Undefined, having written nothing that stands, when the listing is out of date (the
   * secret gone or scheduled for deletion, or this issuance's version already there): the full write judges.
   */
  private async renewListed(
    write: SvidWrite,
    listed: StoredSvid,
    value: Uint8Array,
    policy: string,
  ): Promise<StoredIssuance | undefined> {
    const trusted =
      listed.secretName === write.secretName &&
      listed.committed &&
      listed.deletedAt === undefined &&
      listed.readersDigest === digest(policy);
    if (!trusted) return undefined;
    let stored: boolean;
    try {
      stored = await this.putValue(listed.arn, write.issuanceToken, value);
    } catch (error) {
      if (error instanceof ResourceNotFoundException || error instanceof InvalidRequestException)
        return undefined;
      throw error;
    }
    if (!stored) return undefined;
    // Every tag, not only those the listing says changed: the listing may be older than the tags.
    await this.commit(listed.arn, write.issuanceToken, svidTags(write), policy, new Map());
    return {
      arn: listed.arn,
      versionId: write.issuanceToken,
      serial: write.serial,
      notAfter: write.notAfter,
    };
  }

  /** What `find` just described, taken once; else a fresh DescribeSecret. */
  private async describedOnce(secretName: string): Promise<DescribeSecretCommandOutput | undefined> {
    const remembered = this.described.has(secretName);
    const described = remembered ? this.described.get(secretName) : await this.describe(secretName);
    this.described.delete(secretName);
    return described;
  }

  private describe(secretName: string): Promise<DescribeSecretCommandOutput | undefined> {
    return describeSecret(this.client, secretName);
  }

  private async create(write: SvidWrite, value: Uint8Array, policy: string): Promise<StoredIssuance> {
    const created = await transient('CreateSecret', () =>
      this.client.send(
        new CreateSecretCommand({
          Name: write.secretName,
          ClientRequestToken: write.issuanceToken,
          KmsKeyId: this.writer().kmsKeyId,
          SecretBinary: value,
          Tags: [...svidTags(write)].map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    const arn = created.ARN as string;
    const versionId = created.VersionId ?? write.issuanceToken;
    // The commit follows the policy and the tags it vouches for, so a write cut off in between is not complete.
    await this.putPolicy(arn, policy);
    await this.commit(arn, versionId, svidTags(write), policy, svidTags(write));
    return { arn, versionId, serial: write.serial, notAfter: write.notAfter };
  }

  private async update(
    described: DescribeSecretCommandOutput,
    write: SvidWrite,
    value: Uint8Array,
    policy: string,
  ): Promise<StoredIssuance> {
    const current = ownedTags(write.secretName, described.Tags);
    const arn = described.ARN as string;
    const versionId = write.issuanceToken;
    const result = { arn, versionId, serial: write.serial, notAfter: write.notAfter };
    const allStages = described.VersionIdsToStages ?? {};
    const stages = allStages[versionId];
    // A later issuance already replaced this one: its value and tags stay.
    if (stages && !stages.includes(CURRENT)) return result;
    if (described.DeletedDate) {
      await transient('RestoreSecret', () => this.client.send(new RestoreSecretCommand({ SecretId: arn })));
    }
    // The policy is known only from a commit that vouches for it; writing the value voids that commit.
    const policyKnown =
      isCommitted(current, allStages) && current.get(SVID_TAG.readersDigest) === digest(policy);
    if (!stages && !(await this.putValue(arn, versionId, value))) return result;
    // An earlier attempt of this issuance stored its version: the tags are to tell that one's certificate.
    const held = stages
      ? (committedCertificate(current, allStages) ?? (await this.heldCertificate(arn, versionId)))
      : result;
    if (!held) throw new SvidUnavailable(`${write.secretName} version ${versionId} holds no readable SVID`);
    if (!policyKnown) await this.putPolicy(arn, policy);
    await this.commit(arn, versionId, svidTags({ ...write, ...held }), policy, current);
    return { ...result, serial: held.serial, notAfter: held.notAfter };
  }

  /** Writes the value under the issuance token; false when that token's version is not the current one. */
  private async putValue(arn: string, token: string, value: Uint8Array): Promise<boolean> {
    try {
      const put = await transient('PutSecretValue', () =>
        this.client.send(
          new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretBinary: value }),
        ),
      );
      return put.VersionStages?.includes(CURRENT) ?? true;
    } catch (error) {
      // Same token, different value: this issuance already wrote (a retry re-encoded it), and that
      // version has since lost its stage to a later write, or is being tagged by the first attempt.
      if (error instanceof ResourceExistsException) return false;
      throw error;
    }
  }

  private async putPolicy(arn: string, policy: string): Promise<void> {
    await transient('PutResourcePolicy', () =>
      this.client.send(
        new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: policy, BlockPublicPolicy: true }),
      ),
    );
  }

  /**
   * One TagResource: the tags that differ from `current`, the policy digest, and the commit naming `versionId`
   * and all of them. Returns what it wrote.
   */
  private async commit(
    arn: string,
    versionId: string,
    tags: Map<string, string>,
    policy: string,
    current: Map<string, string>,
  ): Promise<[string, string][]> {
    const wanted = new Map([...tags, [SVID_TAG.readersDigest, digest(policy)]]);
    const changed = [...wanted].filter(([key, value]) => current.get(key) !== value);
    const commit = commitOf(versionId, wanted);
    if (changed.length === 0 && current.get(SVID_TAG.committed) === commit) return [];
    const written: [string, string][] = [...changed, [SVID_TAG.committed, commit]];
    await this.tagged(arn, written);
    return written;
  }

  private async tagged(arn: string, tags: [string, string][]): Promise<void> {
    await transient('TagResource', () =>
      this.client.send(
        new TagResourceCommand({ SecretId: arn, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }),
      ),
    );
  }

  private async uncommit(arn: string): Promise<void> {
    await transient('UntagResource', () =>
      this.client.send(new UntagResourceCommand({ SecretId: arn, TagKeys: [SVID_TAG.committed] })),
    );
  }

  /**
   * Only the enrolled account's reader roles and the issuer may read the value. The Allow names the
   * account and narrows to the roles by condition: a role ARN as Principal makes PutResourcePolicy fail
   * while the role does not exist yet, and silently breaks when the role is recreated.
   */
  private policyFor(accountId: string, readerRoles: string[]): string {
    const readers = [...new Set(readerRoles)]
      .sort()
      .map((role) => `arn:${this.partition}:iam::${accountId}:role/${role}`);
    const allow = {
      Sid: 'EnrolledReadersMayRead',
      Effect: 'Allow',
      Principal: { AWS: `arn:${this.partition}:iam::${accountId}:root` },
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: '*',
      Condition: { ArnEquals: { 'aws:PrincipalArn': readers } },
    };
    const deny = {
      Sid: 'NoOneElseMayRead',
      Effect: 'Deny',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [...readers, this.issuer()] } },
    };
    return JSON.stringify({ Version: '2012-10-17', Statement: readers.length > 0 ? [allow, deny] : [deny] });
  }
}

/** The tags every SVID secret carries, except the policy digest and the commit (written after the policy). */
function svidTags(write: Omit<SvidWrite, 'issuanceToken' | 'secret'>): Map<string, string> {
  return new Map([
    [SVID_TAG.managedBy, MANAGED_BY_VALUE],
    [SVID_TAG.spireSvid, SPIRE_SVID_VALUE],
    [SVID_TAG.spiffeId, write.spiffeId],
    [SVID_TAG.serial, write.serial],
    [SVID_TAG.notAfter, write.notAfter],
    [SVID_TAG.service, write.service],
    [SVID_TAG.environment, write.environment],
    [SVID_TAG.accountId, write.accountId],
  ]);
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** What the readers-digest tag records of a resource policy. */
export const policyDigest = digest;

/** The tags a commit vouches for: every SVID tag but the commit. */
const COMMITTED_TAGS = Object.values(SVID_TAG)
  .filter((key) => key !== SVID_TAG.committed)
  .sort();

/** The current version's certificate as the committed tags tell it; undefined when no commit vouches for them. */
function committedCertificate(
  tags: Map<string, string>,
  stages: Record<string, string[]>,
): CurrentCertificate | undefined {
  const versionId = currentVersion(stages);
  if (versionId === undefined || !isCommitted(tags, stages)) return undefined;
  return {
    versionId,
    spiffeId: tags.get(SVID_TAG.spiffeId) ?? '',
    serial: tags.get(SVID_TAG.serial) ?? '',
    notAfter: tags.get(SVID_TAG.notAfter) ?? '',
  };
}

/** `<version id>/<digest of the committed tags>`: 101 characters for a UUID version id, within a tag's 256. */
const commitOf = (versionId: string, tags: Map<string, string>): string =>
  `${versionId}/${digest(COMMITTED_TAGS.map((key) => `${key}=${tags.get(key) ?? ''}\n`).join(''))}`;

const currentVersion = (stages: Record<string, string[]>): string | undefined =>
  Object.entries(stages).find(([, labels]) => labels.includes(CURRENT))?.[0];

/** The commit names the current version and the tags as they are: the last write finished. */
function isCommitted(tags: Map<string, string>, stages: Record<string, string[]>): boolean {
  const version = currentVersion(stages);
  return version !== undefined && tags.get(SVID_TAG.committed) === commitOf(version, tags);
}

function storedSvid(
  entry: SecretListEntry | DescribeSecretCommandOutput,
  tags: Map<string, string>,
  stages: Record<string, string[]> | undefined,
): StoredSvid {
  return {
    secretName: entry.Name ?? '',
    arn: entry.ARN ?? '',
    spiffeId: tags.get(SVID_TAG.spiffeId) ?? '',
    serial: tags.get(SVID_TAG.serial) ?? '',
    notAfter: tags.get(SVID_TAG.notAfter) ?? '',
    service: tags.get(SVID_TAG.service) ?? '',
    environment: tags.get(SVID_TAG.environment) ?? '',
    accountId: tags.get(SVID_TAG.accountId) ?? '',
    ...(entry.DeletedDate && { deletedAt: entry.DeletedDate.toISOString() }),
    readersDigest: tags.get(SVID_TAG.readersDigest) ?? '',
    committed: isCommitted(tags, stages ?? {}),
  };
}
