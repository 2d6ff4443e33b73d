/**
 * A secret's life: CreateSecret (idempotent by its request token, also against another process creating the
 * same name), DescribeSecret, DeleteSecret with its recovery window, RestoreSecret.
 */
import { randomBytes } from 'node:crypto';
import {
  type CreateSecretCommandInput,
  type DeleteSecretCommandInput,
  InvalidParameterException,
  InvalidRequestException,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import { type Answer, CURRENT, fail, MARKED_FOR_DELETION, SECRET_NAME, type Secrets } from './secrets';
import type { StoredSecret } from './stored-secret';
import { assertSameValue, requestedValue, requestToken, type Value, versionsToStages } from './versions';
import { mergeTags } from './tags-and-policies';

const DAY_MS = 24 * 3600 * 1000;
const ARN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function createSecret(secrets: Secrets, input: CreateSecretCommandInput): Answer {
  const name = input.Name ?? '';
  if (!SECRET_NAME.test(name)) {
    fail(
      InvalidParameterException,
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
    );
  }
  const value = requestedValue(input, false);
  const token = requestToken(input.ClientRequestToken);
  const existing = secrets.load(name);
  if (existing) return createdBefore(existing, token, value);
  const tags = mergeTags([], input.Tags ?? []);
  const at = secrets.now().toISOString();
  const secret: StoredSecret = {
    name,
    arn: `${secrets.arnPrefix}${name}-${randomSuffix()}`,
    ...(input.Description !== undefined && { description: input.Description }),
    ...(input.KmsKeyId !== undefined && { kmsKeyId: input.KmsKeyId }),
    tags,
    createdDate: at,
    lastChangedDate: at,
    versions: value ? [{ versionId: token, stages: [CURRENT], createdAt: at, ...value }] : [],
  };
  const created = { ARN: secret.arn, Name: name, ...(value && { VersionId: token }) };
  return secrets.files.create(secret).then(
    () => created,
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another process created it since we looked: answer as for a secret that was there.
      const theirs = secrets.files.onDisk(name);
      return theirs
        ? createdBefore(theirs, token, value)
        : fail(ResourceExistsException, `The operation failed because the secret ${name} already exists.`);
    },
  );
}

export function describeSecret(secrets: Secrets, secretId: string | undefined) {
  const s = secrets.resolve(secretId);
  return { ...metadataOf(s), VersionIdsToStages: versionsToStages(s) };
}

/** What DescribeSecret and ListSecrets both tell of a secret besides its versions. */
export function metadataOf(s: StoredSecret) {
  return {
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined && { Description: s.description }),
    ...(s.kmsKeyId !== undefined && { KmsKeyId: s.kmsKeyId }),
    ...(s.tags.length > 0 && { Tags: s.tags.map((t) => ({ ...t })) }),
    CreatedDate: new Date(s.createdDate),
    LastChangedDate: new Date(s.lastChangedDate),
    ...(s.deletedDate && { DeletedDate: new Date(s.deletedDate) }),
  };
}

export function deleteSecret(secrets: Secrets, input: DeleteSecretCommandInput) {
  const force = input.ForceDeleteWithoutRecovery ?? false;
  if (force && input.RecoveryWindowInDays !== undefined) {
    fail(
      InvalidParameterException,
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  const days = input.RecoveryWindowInDays ?? 30;
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    fail(
      InvalidParameterException,
      'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
    );
  }
  const secret = secrets.resolve(input.SecretId);
  const now = secrets.now();
  if (force) {
    secrets.files.remove(secret.name);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
  }
  if (secret.deletedDate) fail(InvalidRequestException, MARKED_FOR_DELETION);
  const deletionDate = new Date(now.getTime() + days * DAY_MS);
  secret.deletedDate = now.toISOString();
  secret.deletionDate = deletionDate.toISOString();
  secrets.files.save(secret);
  return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
}

export function restoreSecret(secrets: Secrets, secretId: string | undefined) {
  const secret = secrets.resolve(secretId);
  delete secret.deletedDate;
  delete secret.deletionDate;
  secrets.files.save(secret);
  return { ARN: secret.arn, Name: secret.name };
}

/** The answer to a CreateSecret whose name is taken: AWS's, for each state the existing secret may be in. */
function createdBefore(existing: StoredSecret, token: string, value: Value | undefined): object {
  if (existing.deletedDate) {
    fail(
      InvalidRequestException,
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  }
  const version = existing.versions.find((v) => v.versionId === token);
  if (version && value) {
    assertSameValue(existing, version, value);
    return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
  }
  return fail(
    ResourceExistsException,
    `The operation failed because the secret ${existing.name} already exists.`,
  );
}

function randomSuffix(): string {
  return [...randomBytes(6)].map((b) => ARN_ALPHABET[b % ARN_ALPHABET.length]).join('');
}
