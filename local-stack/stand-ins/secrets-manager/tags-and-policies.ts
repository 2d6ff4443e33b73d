/**
 * A secret's tags and resource policy: TagResource, UntagResource, Put/Get/DeleteResourcePolicy. Policies are
 * kept as given and never evaluated; only what AWS checks on the way in is checked (syntax, BlockPublicPolicy).
 */
import {
  type GetResourcePolicyCommandInput,
  InvalidParameterException,
  MalformedPolicyDocumentException,
  PublicPolicyException,
  type PutResourcePolicyCommandInput,
  type TagResourceCommandInput,
  type UntagResourceCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { fail, type Secrets } from './secrets';

const MAX_TAGS = 50;

type Statement = { Effect?: unknown; Principal?: unknown; Condition?: unknown };

export function tagResource(secrets: Secrets, input: TagResourceCommandInput) {
  const secret = secrets.live(input.SecretId);
  secret.tags = mergeTags(secret.tags, input.Tags ?? []);
  secrets.files.save(secret);
  return {};
}

export function untagResource(secrets: Secrets, input: UntagResourceCommandInput) {
  const secret = secrets.live(input.SecretId);
  const removed = new Set(input.TagKeys ?? []);
  secret.tags = secret.tags.filter((t) => !removed.has(t.Key));
  secrets.files.save(secret);
  return {};
}

export function putResourcePolicy(secrets: Secrets, input: PutResourcePolicyCommandInput) {
  const secret = secrets.live(input.SecretId);
  const policy = parsePolicy(input.ResourcePolicy ?? '');
  if (input.BlockPublicPolicy && grantsPublicAccess(policy)) {
    fail(
      PublicPolicyException,
      'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.',
    );
  }
  secret.resourcePolicy = input.ResourcePolicy;
  secrets.files.save(secret);
  return { ARN: secret.arn, Name: secret.name };
}

export function getResourcePolicy(secrets: Secrets, input: GetResourcePolicyCommandInput) {
  const secret = secrets.resolve(input.SecretId);
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.resourcePolicy !== undefined && { ResourcePolicy: secret.resourcePolicy }),
  };
}

/** Removes the policy; a secret without one answers the same. */
export function deleteResourcePolicy(secrets: Secrets, secretId: string | undefined) {
  const secret = secrets.live(secretId);
  if (secret.resourcePolicy !== undefined) {
    delete secret.resourcePolicy;
    secrets.files.save(secret);
  }
  return { ARN: secret.arn, Name: secret.name };
}

/** The tags with `added` put over them, as CreateSecret and TagResource take them. */
export function mergeTags(
  current: { Key: string; Value: string }[],
  added: { Key?: string; Value?: string }[],
): { Key: string; Value: string }[] {
  const tags = new Map(current.map((t) => [t.Key, t.Value]));
  for (const { Key, Value } of added) {
    if (!Key || Key.length > 128 || (Value ?? '').length > 256) {
      fail(InvalidParameterException, 'A tag key must be 1-128 characters and a tag value at most 256.');
    }
    if ((Key as string).toLowerCase().startsWith('aws:')) {
      fail(InvalidParameterException, 'Tag keys with the aws: prefix are reserved for AWS.');
    }
    tags.set(Key as string, Value ?? '');
  }
  if (tags.size > MAX_TAGS) {
    fail(InvalidParameterException, `A secret can have at most ${MAX_TAGS} tags.`);
  }
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

function parsePolicy(text: string): { Statement: Statement[] } {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    return fail(MalformedPolicyDocumentException, 'This resource policy contains a syntax error.');
  }
  const statement = (policy as { Statement?: unknown } | null)?.Statement;
  const statements = Array.isArray(statement) ? statement : statement ? [statement] : [];
  if (statements.length === 0 || statements.some((s) => typeof s !== 'object' || s === null)) {
    fail(MalformedPolicyDocumentException, 'This resource policy contains a syntax error.');
  }
  return { Statement: statements as Statement[] };
}

/** An unconditional Allow to everyone: what BlockPublicPolicy refuses. */
function grantsPublicAccess(policy: { Statement: Statement[] }): boolean {
  return policy.Statement.some((s) => {
    if (s.Effect !== 'Allow' || s.Condition !== undefined) return false;
    const principal = s.Principal as { AWS?: unknown } | string | undefined;
    const aws = typeof principal === 'object' ? principal.AWS : principal;
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
  });
}
