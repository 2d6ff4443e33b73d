import { type Config, loadConfig, type SettingName, SETTINGS, settingsOf } from '../functions/shared/config';

/**
 * The embedded default's own values for what a deployed function must be given: account, roles, CA, bus, tables
 * and secret names. Only the local stack and the operator CLI's local mode use them.
 */
export const LOCAL_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  TRUST_DOMAIN: 'example.org',
  SVID_SECRET_PREFIX: 'trust-bridge/svid/',
  CENTRAL_ACCOUNT_ID: '000000000000',
  SVID_KMS_KEY_ID: 'alias/trust-bridge-svids',
  ISSUER_ROLE_ARN: 'arn:aws:iam::000000000000:role/trust-bridge-issue-svid',
  CA_ARN: 'arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/local',
  AUDIT_BUS_NAME: 'trust-bridge-audit',
  // Unused locally: the registry is the enrollment file, and the dev server gives its own URL.
  ENROLLMENTS_URL: 'https://enrollments.local.invalid/',
  KEYWHIZ_URL: 'https://keywhiz.local.invalid/',
  // The local stack writes the dev server's CA into each account's store under this name (as infra/onboarding.yml).
  KEYWHIZ_SERVER_CA_SECRET: 'trust-bridge/keywhiz-server-ca',
  SYNC_SECRET_PREFIX: 'trust-bridge/keywhiz/',
  SYNC_KMS_KEY_ID: 'alias/trust-bridge-secrets',
  SYNC_AGENT_FUNCTION_NAME: 'trust-bridge-sync-agent',
  SYNC_AGENT_ROLE_NAME: 'trust-bridge-sync-agent',
  SYNC_INVOKER_ROLE_NAME: 'trust-bridge-sync-invoker',
  WEBHOOK_KEY_SECRET_NAME: 'trust-bridge/webhook-signing-key',
  WEBHOOK_DELIVERY_TABLE: 'trust-bridge-webhook-deliveries',
  ACCOUNT_STATUS_TABLE: 'trust-bridge-account-status',
  // A bucket of the S3 stand-in, at <dataDir>/s3/trust-bridge-run-files/.
  RUN_FILES_BUCKET: 'trust-bridge-run-files',
};

const everySetting = settingsOf(...(Object.keys(SETTINGS) as SettingName[]));

/** Every setting on the embedded default: its local values, overridden by the given environment. */
export const localConfig = (env: Record<string, string | undefined> = {}): Config =>
  loadConfig('local stack', everySetting, { ...LOCAL_ENV, ...env }) as Config;
