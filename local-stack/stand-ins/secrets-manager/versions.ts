/**
 * A secret's versions and their staging labels: PutSecretValue, GetSecretValue, UpdateSecretVersionStage, and
 * the rules CreateSecret shares with them (request tokens, values, a version never changing its value).
 */
import { randomUUID } from 'node:crypto';
import {
  InvalidParameterException,
  InvalidRequestException,
  type GetSecretValueCommandInput,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretValueEntry,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { CURRENT, fail, type Secrets } from './secrets';
import type { StoredSecret, StoredSecretVersion } from './stored-secret';

const PREVIOUS = 'AWSPREVIOUS';
const MAX_VALUE_BYTES = 65_536;
/** Secrets Manager keeps 100 versions, and every version from the last 24 hours. */
const KEPT_VERSIONS = 100;
const KEEP_RECENT_MS = 24 * 3600 * 1000;

/** A value as stored: a string, or binary as base64. */
export type Value = { SecretString?: string; SecretBinary?: string };

export function putSecretValue(secrets: Secrets, input: PutSecretValueCommandInput) {
  const secret = secrets.live(input.SecretId);
  const value = requestedValue(input, true) as Value;
  const token = requestToken(input.ClientRequestToken);
  const version = secret.versions.find((v) => v.versionId === token);
  if (version) {
    assertSameValue(secret, version, value);
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }
  const at = secrets.now().toISOString();
  const stages = [...new Set(input.VersionStages ?? [CURRENT])];
  if (secret.versions.length === 0 && !stages.includes(CURRENT)) stages.push(CURRENT);
  moveStages(secret.versions, stages);
  secret.versions.push({ versionId: token, stages, createdAt: at, ...value });
  secret.versions = keptVersions(secret.versions, secrets.now());
  secret.lastChangedDate = at;
  secrets.files.save(secret);
  return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: stages };
}

export function getSecretValue(secrets: Secrets, input: GetSecretValueCommandInput): SecretValueEntry {
  const secret = secrets.live(input.SecretId);
  let version: StoredSecretVersion | undefined;
  if (input.VersionId !== undefined) {
    version = secret.versions.find((v) => v.versionId === input.VersionId);
    if (!version) {
      fail(
        ResourceNotFoundException,
        `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`,
      );
    }
    if (input.VersionStage !== undefined && !version?.stages.includes(input.VersionStage)) {
      fail(
        InvalidRequestException,
        'You provided a VersionStage that is not associated to the provided VersionId.',
      );
    }
  } else {
    const stage = input.VersionStage ?? CURRENT;
    version = secret.versions.find((v) => v.stages.includes(stage));
    if (!version) {
      fail(
        ResourceNotFoundException,
        `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
    }
  }
  const v = version as StoredSecretVersion;
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: v.versionId,
    ...(v.SecretString !== undefined && { SecretString: v.SecretString }),
    ...(v.SecretBinary !== undefined && {
      SecretBinary: new Uint8Array(Buffer.from(v.SecretBinary, 'base64')),
    }),
    VersionStages: [...v.stages],
    CreatedDate: new Date(v.createdAt),
  };
}

/** Moves a label onto a version (or off one); a label taken from another version must be named there. */
export function updateSecretVersionStage(secrets: Secrets, input: UpdateSecretVersionStageCommandInput) {
  const secret = secrets.live(input.SecretId);
  const stage = input.VersionStage ?? '';
  if (stage.length < 1 || stage.length > 256) {
    fail(InvalidParameterException, 'VersionStage must be 1-256 characters long.');
  }
  const holder = secret.versions.find((v) => v.stages.includes(stage));
  const target =
    input.MoveToVersionId === undefined
      ? undefined
      : secret.versions.find((v) => v.versionId === input.MoveToVersionId);
  if (input.MoveToVersionId !== undefined && !target) {
    fail(
      ResourceNotFoundException,
      `Secrets Manager can't find the specified secret version: ${input.MoveToVersionId}`,
    );
  }
  if (holder && holder !== target && input.RemoveFromVersionId !== holder.versionId) {
    fail(
      InvalidParameterException,
      `The staging label ${stage} is currently attached to version ${holder.versionId}; specify that version as RemoveFromVersionId to move it.`,
    );
  }
  if (!target && stage === CURRENT) {
    fail(InvalidParameterException, `You can't remove the staging label ${CURRENT} without moving it.`);
  }
  if (holder !== target) {
    moveStages(secret.versions, [stage]);
    target?.stages.push(stage);
    secret.lastChangedDate = secrets.now().toISOString();
    secrets.files.save(secret);
  }
  return { ARN: secret.arn, Name: secret.name };
}

/** What DescribeSecret and ListSecrets tell of the versions: the labelled ones only. */
export function versionsToStages(secret: StoredSecret): Record<string, string[]> {
  return Object.fromEntries(
    secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
  );
}

export function requestToken(token: string | undefined): string {
  // The SDK fills a missing token with a UUID; this stand-in sits in front of that middleware.
  if (token === undefined) return randomUUID();
  if (token.length < 32 || token.length > 64) {
    fail(InvalidParameterException, 'ClientRequestToken must be 32-64 characters long.');
  }
  return token;
}

/** The value of a create or put, stored form (binary as base64); undefined when none is given. */
export function requestedValue(
  input: { SecretString?: string; SecretBinary?: Uint8Array },
  required: boolean,
): Value | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    fail(
      InvalidParameterException,
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (input.SecretString === undefined && input.SecretBinary === undefined) {
    return required
      ? fail(InvalidRequestException, 'You must provide either SecretString or SecretBinary.')
      : undefined;
  }
  const bytes =
    input.SecretString !== undefined
      ? Buffer.byteLength(input.SecretString, 'utf8')
      : input.SecretBinary?.length;
  if ((bytes ?? 0) > MAX_VALUE_BYTES) {
    fail(InvalidParameterException, `The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`);
  }
  return input.SecretString !== undefined
    ? { SecretString: input.SecretString }
    : { SecretBinary: Buffer.from(input.SecretBinary as Uint8Array).toString('base64') };
}

/** A version is immutable: its token may be reused only with the very same value. */
export function assertSameValue(secret: StoredSecret, version: StoredSecretVersion, value: Value): void {
  if (version.SecretString !== value.SecretString || version.SecretBinary !== value.SecretBinary) {
    fail(
      ResourceExistsException,
      `You can't use ClientRequestToken ${version.versionId} because that value is already in use for a version of secret ${secret.arn}.`,
    );
  }
}

/** Takes `stages` off the other versions; the version losing AWSCURRENT becomes AWSPREVIOUS. */
function moveStages(versions: StoredSecretVersion[], stages: string[]): void {
  const wasCurrent = stages.includes(CURRENT) ? versions.find((v) => v.stages.includes(CURRENT)) : undefined;
  const moved = new Set(wasCurrent ? [...stages, PREVIOUS] : stages);
  for (const v of versions) v.stages = v.stages.filter((s) => !moved.has(s));
  wasCurrent?.stages.push(PREVIOUS);
}

function keptVersions(versions: StoredSecretVersion[], now: Date): StoredSecretVersion[] {
  const cutoff = now.getTime() - KEEP_RECENT_MS;
  const newestFirst = [...versions].reverse();
  const kept = newestFirst.filter(
    (v, i) => i < KEPT_VERSIONS || v.stages.length > 0 || Date.parse(v.createdAt) > cutoff,
  );
  return kept.reverse();
}
