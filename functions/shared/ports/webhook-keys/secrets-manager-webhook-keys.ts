import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { InvalidConfiguration } from '../../domain/errors';
import { parseWebhookKey } from '../../domain/webhook';
import type { WebhookKeys } from './webhook-keys';
import type { SecretsManagerApi } from '../../aws/clients';

export interface SecretsManagerWebhookKeysOptions {
  /** The secret whose value is the key as hex digits (see parseWebhookKey); rotated by putting a new version. */
  secretName: string;
  /** How long keys are reused before Secrets Manager is asked again (default 5 minutes). */
  cacheMs?: number;
  now?: () => number;
}

const FIVE_MINUTES_MS = 300_000;

/**
 * The webhook keys from Secrets Manager: the AWSCURRENT version first, then AWSPREVIOUS when there is one, so
 * deliveries signed with the old key still verify while senders move to the new one. Cached, so a burst of
 * deliveries costs one read per warm Lambda per five minutes.
 */
export class SecretsManagerWebhookKeys implements WebhookKeys {
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { at: number; keys: Promise<Uint8Array[]> } | undefined;

  constructor(
    private readonly client: SecretsManagerApi,
    private readonly options: SecretsManagerWebhookKeysOptions,
  ) {
    this.cacheMs = options.cacheMs ?? FIVE_MINUTES_MS;
    this.now = options.now ?? Date.now;
  }

  keys(): Promise<Uint8Array[]> {
    const at = this.now();
    if (this.cached && at - this.cached.at < this.cacheMs) return this.cached.keys;
    const keys = this.load();
    this.cached = { at, keys };
    // A failed read is not kept: the next delivery asks again.
    keys.catch(() => {
      if (this.cached?.keys === keys) this.cached = undefined;
    });
    return keys;
  }

  private async load(): Promise<Uint8Array[]> {
    const [current, previous] = await Promise.all([
      this.read('AWSCURRENT'),
      this.read('AWSPREVIOUS').catch((error: unknown) => {
        // A secret that was never rotated has no AWSPREVIOUS version.
        if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }),
    ]);
    return previous === undefined ? [current] : [current, previous];
  }

  private async read(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<Uint8Array> {
    const source = `${this.options.secretName} (${stage})`;
    const value = await this.client.send(
      new GetSecretValueCommand({ SecretId: this.options.secretName, VersionStage: stage }),
    );
    if (value.SecretString === undefined) {
      throw new InvalidConfiguration(
        `${source}: the webhook key must be stored as SecretString (hex digits)`,
      );
    }
    return parseWebhookKey(value.SecretString, source);
  }
}
