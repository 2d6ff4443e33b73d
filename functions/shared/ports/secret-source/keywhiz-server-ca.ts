import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from '../../aws/clients';
import { transient } from '../../aws/secrets-manager-calls';
import { InvalidConfiguration } from '../../domain/errors';
import { parseServerCaBundle } from '../../domain/keywhiz';
import type { KeywhizServerCa } from './secret-source';

/** Answers that mean the secret cannot be had as configured: a configuration error, not a passing failure. */
const UNREADABLE: Record<string, string> = {
  ResourceNotFoundException: 'no such secret in this account, or it has no current value',
  InvalidRequestException: 'it cannot be read (scheduled for deletion?)',
  AccessDeniedException: 'this function may not read it',
  DecryptionFailure: 'its value cannot be decrypted with its KMS key',
};

/**
 * Keywhiz's CA from a secret in the agent's own account (KEYWHIZ_SERVER_CA_SECRET, name or ARN): one
 * GetSecretValue per container, kept until the container ends or the CA is forgotten. A failed read is not kept.
 * The value is PEM certificates (SecretString, or SecretBinary holding the same text); it is public data, yet only
 * the secret's name ever appears in an error.
 */
export class SecretsManagerKeywhizServerCa implements KeywhizServerCa {
  readonly source: string;
  #kept: Promise<string> | undefined;

  constructor(
    private readonly client: SecretsManagerApi,
    private readonly secretId: string,
  ) {
    this.source = `KEYWHIZ_SERVER_CA_SECRET ${secretId}`;
  }

  pem(): Promise<string> {
    const kept = (this.#kept ??= this.#read());
    kept.catch(() => {
      if (this.#kept === kept) this.#kept = undefined;
    });
    return kept;
  }

  forget(): void {
    this.#kept = undefined;
  }

  async #read(): Promise<string> {
    const { source } = this;
    let value: { SecretString?: string; SecretBinary?: Uint8Array };
    try {
      value = await transient('GetSecretValue', () =>
        this.client.send(new GetSecretValueCommand({ SecretId: this.secretId })),
      );
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      const why = UNREADABLE[name];
      if (why === undefined) throw error;
      throw new InvalidConfiguration(`${source}: ${why} (${name})`, { cause: error });
    }
    const text =
      value.SecretString ?? (value.SecretBinary ? Buffer.from(value.SecretBinary).toString('utf8') : '');
    return parseServerCaBundle(text, source);
  }
}
