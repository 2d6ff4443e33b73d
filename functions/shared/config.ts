import * as z from './domain/zod';
import { InvalidConfiguration } from './domain/errors';

const name = z.string().check(z.minLength(1, 'must not be empty'));
const accountId = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));
const roleArn = z
  .string()
  .check(z.regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'));
const roleName = z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name'));
const kmsKey = z
  .string()
  .check(
    z.regex(
      /^(arn:aws[\w-]*:kms:[\w-]+:\d{12}:(key|alias)\/.+|alias\/.+|[0-9a-f-]{36})$/,
      'must be a KMS key id, ARN or alias',
    ),
  );
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const hours = z.coerce.number().check(z.positive());
const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().check(z.int(), z.gte(min), z.lte(max));
const days = whole(7, 30);
const concurrency = whole(1, 40);

/**
 * Every setting a deployed function may read, each declared once. A function's own schema picks the ones it uses
 * (settingsOf), so it fails at cold start on exactly those. Production identities (accounts, roles, the CA, bus,
 * tables, secret names) have no default here: only the embedded default supplies local values
 * (local-stack/local-config.ts). Tunables keep their defaults.
 */
export const SETTINGS = {
  AWS_REGION: name,
  TRUST_DOMAIN: z
    .string()
    .check(z.regex(/^[a-z0-9._-]+$/, 'a trust domain is lowercase letters, digits, ".", "-" and "_"')),
  SPIFFE_ID_TEMPLATE: z._default(z.string(), 'spiffe://{trustDomain}/{environment}/{service}'),
  /** SVID secret names are `<prefix><environment>/<service>`. */
  SVID_SECRET_PREFIX: name,
  /** The central account that holds the SVID secrets. */
  CENTRAL_ACCOUNT_ID: accountId,
  SVID_KMS_KEY_ID: kmsKey,
  /** The role that writes SVIDs: the only principal besides reader roles allowed to read them. */
  ISSUER_ROLE_ARN: roleArn,
  CA_ARN: z
    .string()
    .check(
      z.regex(
        /^arn:aws[\w-]*:acm-pca:[\w-]+:\d{12}:certificate-authority\/.+$/,
        'must be an ACM Private CA ARN',
      ),
    ),
  CA_SIGNING_ALGORITHM: z._default(z.string(), 'SHA256WITHECDSA'),
  AUDIT_BUS_NAME: name,
  ENROLLMENTS_URL: httpsUrl,
  RENEW_BEFORE_HOURS: z._default(hours, 12),
  SVID_RECOVERY_WINDOW_DAYS: z._default(days, 7),
  /** Accounts per child execution: bounds each execution's history and payloads. */
  CHUNK_SIZE: z._default(whole(1, 1000), 250),
  /** Concurrent accounts inside one child execution (inline Map, at most 40). */
  ACCOUNT_CONCURRENCY: z._default(concurrency, 10),
  /** Concurrent child executions. */
  CHUNK_CONCURRENCY: z._default(concurrency, 4),
  /**
   * Certificates a second a rotation asks of ACM PCA, shared by the chunks running at once: under PCA's default
   * IssueCertificate quota of 25 a second, so the SDK's retries and a replay find room (bench aws measures it).
   */
  ISSUANCE_RATE: z._default(whole(1, 1000), 23),
  /** Retirements handled per run; the rest follow in the next run. */
  MAX_RETIREMENTS_PER_RUN: z._default(whole(0), 500),
  /**
   * A plan retiring more than this share of the stored SVIDs (and more than one) is refused unless the run says
   * allowMassRetirement: a registry that lost its records must not delete the fleet's identities.
   */
  MAX_RETIREMENT_SHARE: z._default(z.coerce.number().check(z.gte(0), z.lte(1)), 0.1),

  /** Keywhiz's client API, reached over mTLS with the service's own SVID. */
  KEYWHIZ_URL: httpsUrl,
  /** When set, the Keywhiz server must present an SVID with this SPIFFE ID (else its DNS name is checked). */
  KEYWHIZ_SERVER_SPIFFE_ID: z._default(z.string(), ''),
  /**
   * The secret (name or ARN) in the agent's own account whose value is the PEM bundle of the CA that signs Keywhiz's
   * server certificate: Keywhiz's own CA, not the SVID issuer. A secret, not a variable: Lambda's environment holds
   * 4 KB in all.
   */
  KEYWHIZ_SERVER_CA_SECRET: name,
  /** Per HTTP call to Keywhiz. */
  KEYWHIZ_TIMEOUT_MS: z._default(whole(100, 60_000), 5000),
  /** Attempts per Keywhiz call, the first included; only 5xx and transport errors are retried. */
  KEYWHIZ_MAX_ATTEMPTS: z._default(whole(1, 10), 4),
  /** Synced secrets are `<prefix><environment>/<service>/<mapped Keywhiz name>` in the account's Secrets Manager. */
  SYNC_SECRET_PREFIX: name,
  /** The customer-managed key in the enrolled account that encrypts synced secrets. */
  SYNC_KMS_KEY_ID: kmsKey,
  SYNC_RECOVERY_WINDOW_DAYS: z._default(days, 7),
  /** A listing that would delete more than this share of an account's synced secrets is refused. */
  SYNC_MAX_DELETE_SHARE: z._default(z.coerce.number().check(z.gte(0), z.lte(1)), 0.5),
  /** Accounts per child execution of a sync run. */
  SYNC_CHUNK_SIZE: z._default(whole(1, 1000), 100),
  /** Concurrent account agents inside one child execution (inline Map, at most 40). */
  SYNC_ACCOUNT_CONCURRENCY: z._default(concurrency, 10),
  /** The sync agent's function and role, the same name in every enrolled account (the onboarding template). */
  SYNC_AGENT_FUNCTION_NAME: name,
  SYNC_AGENT_ROLE_NAME: roleName,
  /** The role in each enrolled account that the sync workflow assumes to invoke the agent there. */
  SYNC_INVOKER_ROLE_NAME: roleName,
  /** The webhook's HMAC key, a secret in the central account. */
  WEBHOOK_KEY_SECRET_NAME: name,
  /** Delivery ids seen by the webhook receiver (DynamoDB table on AWS). */
  WEBHOOK_DELIVERY_TABLE: name,
  /** Per-account status records the report steps write and `trust-bridge status` reads (DynamoDB table on AWS). */
  ACCOUNT_STATUS_TABLE: name,
  /** The S3 bucket of the runs' files: each run's plan (its Distributed Map reads it) and results. */
  RUN_FILES_BUCKET: name,
};

export type SettingName = keyof typeof SETTINGS;
type Settings = typeof SETTINGS;

/** Every setting, as the embedded default holds them all. */
export type Config = z.infer<z.ZodMiniObject<Settings>>;

/** A function's own schema: just the settings it reads. */
export const settingsOf = <K extends SettingName>(...names: K[]) =>
  z.object(Object.fromEntries(names.map((n) => [n, SETTINGS[n]])) as Pick<Settings, K>);

/** The settings that name the SVID of an enrollment: its SPIFFE ID and secret name. */
export const SVID_NAMING = ['TRUST_DOMAIN', 'SPIFFE_ID_TEMPLATE', 'SVID_SECRET_PREFIX'] as const;
/** What writing SVIDs into the central store takes: its key, the issuer role its policies admit, the account. */
export const SVID_WRITER = ['SVID_KMS_KEY_ID', 'ISSUER_ROLE_ARN', 'CENTRAL_ACCOUNT_ID'] as const;
/** ACM Private CA. */
export const CERTIFICATE_AUTHORITY = ['CA_ARN', 'CA_SIGNING_ALGORITHM'] as const;
/** Keywhiz's client API, as the sync agent reaches it. */
export const KEYWHIZ = [
  'KEYWHIZ_URL',
  'KEYWHIZ_SERVER_SPIFFE_ID',
  'KEYWHIZ_SERVER_CA_SECRET',
  'KEYWHIZ_TIMEOUT_MS',
  'KEYWHIZ_MAX_ATTEMPTS',
] as const;

/**
 * Reads and checks a function's settings at cold start. A missing or malformed variable fails init with a
 * message that names it: `issue-svid: CA_ARN is not set; RENEW_BEFORE_HOURS must be …`.
 */
export function loadConfig<S extends z.ZodMiniObject>(
  functionName: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    return env[key] === undefined ? `${key} is not set` : `${key}: ${issue.message}`;
  });
  throw new InvalidConfiguration(`${functionName}: invalid configuration: ${problems.join('; ')}`);
}
