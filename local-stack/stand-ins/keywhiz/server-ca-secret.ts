/**
 * The dev server's CA given to each account as the onboarding stack gives a real account Keywhiz's CA: a
 * secret in the account's own Secrets Manager, which the agent reads through the same adapter as on AWS.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from '../../../functions/shared/aws/clients';
import { transient } from '../../../functions/shared/aws/secrets-manager-calls';

/** Marks the CA secret the local stack wrote itself, so a later start may replace it; any other value is left alone. */
const DEV_SERVER_CA_TAG = 'trust-bridge:keywhiz-dev-server-ca';

/**
 * Gives an account's Secrets Manager the dev server's CA under `secretName`: created when absent, replaced when
 * it holds an earlier dev server CA written here, left alone when someone else put a value there (a test's
 * wrong CA, a real Keywhiz's CA for a KEYWHIZ_URL at home).
 */
export async function ensureDevServerCa(
  secretsManager: SecretsManagerApi,
  secretName: string,
  caPem: string,
): Promise<void> {
  // Throttling becomes StoreThrottled, which the workflow retries, as for the agent's own calls.
  try {
    await transient('CreateSecret', () =>
      secretsManager.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: "The CA of the Keywhiz dev server's certificate (trust-bridge local stack)",
          SecretString: caPem,
          Tags: [{ Key: DEV_SERVER_CA_TAG, Value: 'true' }],
        }),
      ),
    );
    return;
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceExistsException') throw error;
  }
  const described = await transient('DescribeSecret', () =>
    secretsManager.send(new DescribeSecretCommand({ SecretId: secretName })),
  );
  if (!(described.Tags ?? []).some((t) => t.Key === DEV_SERVER_CA_TAG)) return;
  const current = await transient('GetSecretValue', () =>
    secretsManager.send(new GetSecretValueCommand({ SecretId: secretName })),
  ).catch(() => undefined);
  if (current?.SecretString === caPem) return;
  await transient('PutSecretValue', () =>
    secretsManager.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: caPem })),
  );
}
