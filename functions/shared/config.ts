import { z } from 'zod';
import { InvalidConfiguration } from './domain/errors';

const hours = z.coerce.number().positive();

/** Everything a step reads from its environment, with the embedded default's values. */
export const configSchema = z.object({
  TRUST_DOMAIN: z
    .string()
    .regex(/^[a-z0-9._-]+$/, 'a trust domain is lowercase letters, digits, ".", "-" and "_"')
    .default('example.org'),
  SPIFFE_ID_TEMPLATE: z.string().default('spiffe://{trustDomain}/{environment}/{service}'),
  /** SVID secret names are `<prefix><environment>/<service>`. */
  SVID_SECRET_PREFIX: z.string().default('trust-bridge/svid/'),
  /** The central account that holds the SVID secrets. */
  CENTRAL_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/)
    .default('000000000000'),
  AWS_REGION: z.string().default('us-east-1'),
  SVID_KMS_KEY_ID: z.string().default('alias/trust-bridge-svids'),
  /** The role that writes SVIDs: the only principal besides reader roles allowed to read them. */
  ISSUER_ROLE_ARN: z.string().default('arn:aws:iam::000000000000:role/trust-bridge-issue-svid'),
  CA_ARN: z.string().default(''),
  CA_SIGNING_ALGORITHM: z.string().default('SHA256WITHECDSA'),
  AUDIT_BUS_NAME: z.string().default('trust-bridge-audit'),
  ENROLLMENTS_URL: z.string().default(''),
  RENEW_BEFORE_HOURS: hours.default(12),
  SVID_RECOVERY_WINDOW_DAYS: z.coerce.number().int().min(7).max(30).default(7),
  /** Accounts per child execution: bounds each execution's history and payloads. */
  CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(250),
  /** Concurrent accounts inside one child execution (inline Map, at most 40). */
  ACCOUNT_CONCURRENCY: z.coerce.number().int().min(1).max(40).default(10),
  /** Concurrent child executions. */
  CHUNK_CONCURRENCY: z.coerce.number().int().min(1).max(40).default(4),
  /** Retirements handled per run; the rest follow in the next run. */
  MAX_RETIREMENTS_PER_RUN: z.coerce.number().int().min(0).default(500),

  /** Keywhiz's client API, reached over mTLS with the service's own SVID. */
  KEYWHIZ_URL: z.string().default(''),
  /** When set, the Keywhiz server must present an SVID with this SPIFFE ID (else its DNS name is checked). */
  KEYWHIZ_SERVER_SPIFFE_ID: z.string().default(''),
  /** Per HTTP call to Keywhiz. */
  KEYWHIZ_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Attempts per Keywhiz call, the first included; only 5xx and transport errors are retried. */
  KEYWHIZ_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  /** Synced secrets are `<prefix><environment>/<service>/<mapped Keywhiz name>` in the account's Secrets Manager. */
  SYNC_SECRET_PREFIX: z.string().default('trust-bridge/keywhiz/'),
  /** The customer-managed key in the enrolled account that encrypts synced secrets. */
  SYNC_KMS_KEY_ID: z.string().default('alias/trust-bridge-secrets'),
  SYNC_RECOVERY_WINDOW_DAYS: z.coerce.number().int().min(7).max(30).default(7),
  /** A listing that would delete more than this share of an account's synced secrets is refused. */
  SYNC_MAX_DELETE_SHARE: z.coerce.number().min(0).max(1).default(0.5),
  /** Accounts per child execution of a sync run. */
  SYNC_CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** Concurrent account agents inside one child execution (inline Map, at most 40). */
  SYNC_ACCOUNT_CONCURRENCY: z.coerce.number().int().min(1).max(40).default(10),
  /** The sync agent's function and role, the same name in every enrolled account (the onboarding template). */
  SYNC_AGENT_FUNCTION_NAME: z.string().default('trust-bridge-sync-agent'),
  SYNC_AGENT_ROLE_NAME: z.string().default('trust-bridge-sync-agent'),
  /** The role in each enrolled account that the sync workflow assumes to invoke the agent there. */
  SYNC_INVOKER_ROLE_NAME: z.string().default('trust-bridge-sync-invoker'),
  /** The webhook's HMAC key, a secret in the central account. */
  WEBHOOK_KEY_SECRET_NAME: z.string().default('trust-bridge/webhook-signing-key'),
  /** Delivery ids seen by the webhook receiver (DynamoDB table on AWS). */
  WEBHOOK_DELIVERY_TABLE: z.string().default('trust-bridge-webhook-deliveries'),
  /** Per-account status records the report steps write and `trust-bridge status` reads (DynamoDB table on AWS). */
  ACCOUNT_STATUS_TABLE: z.string().default('trust-bridge-account-status'),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidConfiguration(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}
