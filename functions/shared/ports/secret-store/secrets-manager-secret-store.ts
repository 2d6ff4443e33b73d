import {
  CreateSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SecretWriteRaced } from '../../domain/errors';
import { fitsTagValue, recordedChecksum, SECRET_VALUE_MAX_BYTES, secretTooLarge } from '../../domain/keywhiz';
import { keywhizNameOf, secretVersionToken } from '../../domain/synced-secret-name';
import { MANAGED_BY_VALUE, SVID_TAG } from '../../domain/svid-secret';
import type { SecretsManagerApi } from '../../aws/clients';
import {
  isOwned,
  MANAGED_BY_TAG,
  ownedTags,
  tagMap,
  transient,
  scheduleDeletion,
  describeSecret,
} from '../../aws/secrets-manager-calls';
import { pages } from '../../aws/pages';
import type { SecretStore, SecretWrite, SyncedSecret } from './secret-store';

/** Tag keys on a synced Keywhiz secret: what the next sync needs to know without reading the value. */
export const SYNCED_SECRET_TAG = {
  /** The ownership marker shared with SVIDs: a secret without it is never overwritten or deleted. */
  managedBy: MANAGED_BY_TAG,
  /** The Keywhiz checksum of the content written, as recordedChecksum gives it. */
  keywhizChecksum: 'trust-bridge:keywhiz-checksum',
  /** Keywhiz's updateDate of the content written, when Keywhiz gave one. */
  keywhizUpdated: 'trust-bridge:keywhiz-updated',
  service: SVID_TAG.service,
  environment: SVID_TAG.environment,
} as const;

const CURRENT = 'AWSCURRENT';
/** The label a new version is written under before it is made current: a version without a label may be removed. */
const PENDING = 'TRUST_BRIDGE_PENDING';
/**
 * Keywhiz secrets in one enrolled account's Secrets Manager, one secret per Keywhiz secret, named by
 * domain/synced-secret-name.ts. Works against the SDK client on AWS and against LocalSecretsManager.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerApi,
    private readonly options: { kmsKeyId: string },
  ) {}

  async listSynced(prefix: string): Promise<SyncedSecret[]> {
    const synced: SyncedSecret[] = [];
    const list = (NextToken: string | undefined) =>
      transient('ListSecrets', () =>
        this.client.send(
          new ListSecretsCommand({
            Filters: [
              { Key: 'name', Values: [prefix] },
              { Key: 'tag-key', Values: [MANAGED_BY_TAG] },
            ],
            IncludePlannedDeletion: true,
            MaxResults: 100,
            NextToken,
          }),
        ),
      );
    for await (const page of pages(list, (page) => page.NextToken)) {
      for (const entry of page.SecretList ?? []) {
        const tags = tagMap(entry.Tags);
        const keywhizName = keywhizNameOf(prefix, entry.Name ?? '');
        // The filters match by prefix: keep only our exact marker and names the mapping produced.
        if (!isOwned(tags) || keywhizName === undefined) continue;
        const updateDate = updateDateOf(tags);
        const checksum = tags.get(SYNCED_SECRET_TAG.keywhizChecksum) ?? '';
        synced.push({
          secretName: entry.Name as string,
          arn: entry.ARN ?? '',
          keywhizName,
          checksum,
          ...(updateDate !== undefined && { updateDate }),
          ...(entry.DeletedDate && { deletedAt: entry.DeletedDate.toISOString() }),
          complete: describesCurrent(keywhizName, checksum, entry.SecretVersionsToStages),
          ...currentOf(entry.SecretVersionsToStages),
        });
      }
    }
    return synced;
  }

  async write(
    write: SecretWrite,
  ): Promise<{ arn: string; versionId: string; created: boolean; restored: boolean }> {
    if (write.content.byteLength > SECRET_VALUE_MAX_BYTES) {
      throw secretTooLarge(write.keywhizName, write.content.byteLength);
    }
    const value = secretValue(write.content);
    const token = secretVersionToken(write.keywhizName, write.checksum);
    if (write.existing) {
      try {
        return await this.update(write.existing, write, value, token);
      } catch (error) {
        // Purged since the listing (its recovery window ended): create it afresh.
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
    try {
      const created = await transient('CreateSecret', () =>
        this.client.send(
          new CreateSecretCommand({
            Name: write.secretName,
            ClientRequestToken: token,
            KmsKeyId: this.options.kmsKeyId,
            ...value,
            Tags: [...syncedTags(write)].map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
      return {
        arn: created.ARN as string,
        versionId: created.VersionId ?? token,
        created: true,
        restored: false,
      };
    } catch (error) {
      // The name is taken (a secret scheduled for deletion answers InvalidRequestException): ours, or not?
      if (!(error instanceof ResourceExistsException || error instanceof InvalidRequestException))
        throw error;
      const described = await this.describe(write.secretName);
      if (!described) throw error;
      const tags = ownedTags(write.secretName, described.Tags);
      const updateDate = updateDateOf(tags);
      const existing = {
        arn: described.ARN as string,
        ...(updateDate !== undefined && { updateDate }),
        ...(described.DeletedDate && { deletedAt: described.DeletedDate.toISOString() }),
        ...currentOf(described.VersionIdsToStages),
      };
      return this.update(existing, write, value, token);
    }
  }

  async restore(secret: SyncedSecret): Promise<void> {
    await transient('RestoreSecret', () =>
      this.client.send(new RestoreSecretCommand({ SecretId: secret.arn })),
    );
  }

  async remove(secret: SyncedSecret, recoveryWindowDays: number): Promise<{ deletionDate: string }> {
    const described = await transient('DescribeSecret', () =>
      this.client.send(new DescribeSecretCommand({ SecretId: secret.arn })),
    );
    return scheduleDeletion(this.client, secret.secretName, described, recoveryWindowDays);
  }

  /**
   * Restores, puts the value under a label of its own, makes it current in place of the version `existing` saw
   * current (a compare-and-swap: SecretWriteRaced when another write got there first), then tags in one call. A
   * write cut off before the tags leaves a checksum tag whose version is not the current one: the listing marks it
   * incomplete, so the next run writes again with the same token and value (a no-op) and then tags.
   */
  private async update(
    existing: { arn: string; updateDate?: string; deletedAt?: string; currentVersionId?: string },
    write: SecretWrite,
    value: SecretValue,
    token: string,
  ): Promise<{ arn: string; versionId: string; created: boolean; restored: boolean }> {
    const arn = existing.arn;
    if (existing.deletedAt) {
      await transient('RestoreSecret', () => this.client.send(new RestoreSecretCommand({ SecretId: arn })));
    }
    const put = await transient('PutSecretValue', () =>
      this.client.send(
        new PutSecretValueCommand({
          SecretId: arn,
          ClientRequestToken: token,
          ...value,
          VersionStages: [PENDING],
        }),
      ),
    );
    // Already current: this content was written before (a retry, or Keywhiz's content came back).
    if (!put.VersionStages?.includes(CURRENT)) {
      await this.makeCurrent(arn, token, existing.currentVersionId ?? (await this.currentVersion(arn)));
    }
    const written = syncedTags(write);
    // Content without a known date empties the date tag in the same call: an older date must not stand for it.
    const tags: [string, string][] = [
      [SYNCED_SECRET_TAG.keywhizChecksum, written.get(SYNCED_SECRET_TAG.keywhizChecksum) as string],
      [SYNCED_SECRET_TAG.keywhizUpdated, written.get(SYNCED_SECRET_TAG.keywhizUpdated) ?? ''],
    ];
    if (existing.updateDate === undefined && tags[1]?.[1] === '') tags.pop();
    await transient('TagResource', () =>
      this.client.send(
        new TagResourceCommand({ SecretId: arn, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }),
      ),
    );
    return {
      arn,
      versionId: put.VersionId ?? token,
      created: false,
      restored: existing.deletedAt !== undefined,
    };
  }

  /**
   * Moves AWSCURRENT to `token` from `from` only: Secrets Manager refuses the move when the label is on another
   * version by then. Another execution for the same secret (webhook syncs may overlap on AWS) wrote since this one
   * read the store, perhaps newer content: this write stops, and its retry starts again from Keywhiz.
   */
  private async makeCurrent(arn: string, token: string, from: string | undefined): Promise<void> {
    try {
      await transient('UpdateSecretVersionStage', () =>
        this.client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: arn,
            VersionStage: CURRENT,
            MoveToVersionId: token,
            ...(from !== undefined && from !== token && { RemoveFromVersionId: from }),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof InvalidParameterException)) throw error;
      // A move that timed out and was sent again finds its own work done.
      if ((await this.currentVersion(arn)) === token) return;
      throw new SecretWriteRaced(
        `another write of ${arn} became current after this sync read it (it was ${from ?? 'none'}); not made current, so older content cannot land last`,
        { cause: error },
      );
    }
  }

  /** The version AWSCURRENT is on now, for a write that did not list the secret first. */
  private async currentVersion(arn: string): Promise<string | undefined> {
    const described = await transient('DescribeSecret', () =>
      this.client.send(new DescribeSecretCommand({ SecretId: arn })),
    );
    return currentOf(described.VersionIdsToStages).currentVersionId;
  }

  private describe(secretName: string): Promise<DescribeSecretCommandOutput | undefined> {
    return describeSecret(this.client, secretName);
  }
}

type SecretValue = { SecretString: string } | { SecretBinary: Uint8Array };

/** The version AWSCURRENT is on, as a listing or a description tells it. */
const currentOf = (stages: Record<string, string[]> | undefined): { currentVersionId?: string } => {
  const current = Object.entries(stages ?? {}).find(([, labels]) => labels.includes(CURRENT))?.[0];
  return current === undefined ? {} : { currentVersionId: current };
};

/** The date tag; an empty one (content without a known date) is no date. */
const updateDateOf = (tags: Map<string, string>): string | undefined =>
  tags.get(SYNCED_SECRET_TAG.keywhizUpdated) || undefined;

/**
 * The tags describe the current version: each content's version id derives from its checksum, so the current
 * version must be the checksum tag's. Known from the listing alone.
 */
function describesCurrent(
  keywhizName: string,
  checksum: string,
  stages: Record<string, string[]> | undefined,
): boolean {
  const { currentVersionId } = currentOf(stages);
  return currentVersionId !== undefined && currentVersionId === secretVersionToken(keywhizName, checksum);
}

/** UTF-8 content as SecretString (a byte-order mark kept), anything else as SecretBinary. */
function secretValue(content: Uint8Array): SecretValue {
  try {
    return { SecretString: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(content) };
  } catch {
    return { SecretBinary: content };
  }
}

/** Every tag a synced secret carries; the Keywhiz date only when it is known and a tag can hold it. */
function syncedTags(write: SecretWrite): Map<string, string> {
  const tags = new Map<string, string>([
    [SYNCED_SECRET_TAG.managedBy, MANAGED_BY_VALUE],
    [SYNCED_SECRET_TAG.keywhizChecksum, recordedChecksum(write.checksum)],
  ]);
  if (write.updateDate !== undefined && fitsTagValue(write.updateDate)) {
    tags.set(SYNCED_SECRET_TAG.keywhizUpdated, write.updateDate);
  }
  tags.set(SYNCED_SECRET_TAG.service, write.service);
  tags.set(SYNCED_SECRET_TAG.environment, write.environment);
  return tags;
}
