import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from '../../functions/shared/aws/clients';
import { SecretsManagerWebhookKeys } from '../../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import type { Config } from '../../functions/shared/config';
import { newWebhookKey } from '../../functions/shared/domain/webhook';
import { LocalSecretsManager } from './secrets-manager/local-secrets-manager';

/**
 * Creates the webhook signing key in the local central store unless it is there: a random 32-byte key as hex,
 * the form SecretsManagerWebhookKeys reads. Both the receiver and `trust-bridge notify` call it, so either
 * may start first; an existing key is never replaced.
 */
export async function ensureLocalWebhookKey(
  secretsManager: SecretsManagerApi,
  secretName: string,
): Promise<void> {
  try {
    await secretsManager.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: 'trust-bridge webhook signing key (HMAC-SHA256, hex)',
        SecretString: newWebhookKey(),
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceExistsException') throw error;
  }
}

/** The central account's local Secrets Manager under `dataDir`, as the local stack opens it. */
export const localCentralSecretsManager = (dataDir: string, config: Config): LocalSecretsManager =>
  new LocalSecretsManager({ dataDir, accountId: config.CENTRAL_ACCOUNT_ID, region: config.AWS_REGION });

/** The current local signing key (created if absent), for a sender such as `trust-bridge notify`. */
export async function readLocalWebhookKey(dataDir: string, config: Config): Promise<Uint8Array> {
  const secretsManager = localCentralSecretsManager(dataDir, config);
  await ensureLocalWebhookKey(secretsManager, config.WEBHOOK_KEY_SECRET_NAME);
  const [current] = await new SecretsManagerWebhookKeys(secretsManager, {
    secretName: config.WEBHOOK_KEY_SECRET_NAME,
  }).keys();
  // keys() always yields the current key first, or throws.
  return current as Uint8Array;
}
