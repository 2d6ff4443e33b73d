import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  ResourceNotFoundException,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from './clients';
import { SecretNotOwned, StoreThrottled } from '../domain/errors';
import { MANAGED_BY_VALUE, SVID_TAG } from '../domain/svid-secret';
import { isTransientAwsError } from './transient-errors';

/**
 * What the Secrets Manager adapters (SVIDs, synced Keywhiz secrets) share: how a failed call is told
 * apart from a refusal, and the ownership marker that keeps them off secrets they did not create.
 */

/** Our ownership marker, on SVIDs and synced secrets alike: a secret without it is never written or deleted. */
export const MANAGED_BY_TAG = SVID_TAG.managedBy;

/** Runs one call; throttling and server-side failures become StoreThrottled, which the workflow retries. */
export async function transient<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    // Every write is idempotent by its ClientRequestToken or its content, so a timed-out one is retried too.
    if (isTransientAwsError(error)) {
      throw new StoreThrottled(
        `Secrets Manager ${operation} was throttled or failed on the server (${(error as Error).name})`,
        { cause: error },
      );
    }
    throw error;
  }
}

export const tagMap = (tags: Tag[] | undefined): Map<string, string> =>
  new Map((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

export const isOwned = (tags: Map<string, string>): boolean => tags.get(MANAGED_BY_TAG) === MANAGED_BY_VALUE;

/** The secret's tags; throws SecretNotOwned, before any write, when our marker is missing. */
export function ownedTags(secretName: string, tags: Tag[] | undefined): Map<string, string> {
  const map = tagMap(tags);
  if (!isOwned(map)) {
    throw new SecretNotOwned(
      `secret ${secretName} exists without the tag ${MANAGED_BY_TAG}=${MANAGED_BY_VALUE}: trust-bridge never writes or deletes it`,
    );
  }
  return map;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Schedules deletion of a secret we own (checked on `described`, so a foreign one throws SecretNotOwned) with a
 * recovery window. For a secret already scheduled, Secrets Manager tells only when deletion was requested, so
 * the date returned is that plus the window, and no second DeleteSecret is sent.
 */
export async function scheduleDeletion(
  client: SecretsManagerApi,
  secretName: string,
  described: DescribeSecretCommandOutput,
  recoveryWindowDays: number,
): Promise<{ deletionDate: string }> {
  ownedTags(secretName, described.Tags);
  const window = recoveryWindowDays * DAY_MS;
  if (described.DeletedDate) {
    return { deletionDate: new Date(described.DeletedDate.getTime() + window).toISOString() };
  }
  const deleted = await transient('DeleteSecret', () =>
    client.send(
      new DeleteSecretCommand({ SecretId: described.ARN, RecoveryWindowInDays: recoveryWindowDays }),
    ),
  );
  return { deletionDate: (deleted.DeletionDate ?? new Date(Date.now() + window)).toISOString() };
}

/** The secret's metadata, or undefined when there is no such secret. */
export async function describeSecret(
  client: SecretsManagerApi,
  secretId: string,
): Promise<DescribeSecretCommandOutput | undefined> {
  try {
    return await transient('DescribeSecret', () =>
      client.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
