/**
 * One account's secrets as every operation finds them: by name or ARN over the files, never one whose recovery
 * window has passed; with the labels, names and refusals the operations share.
 */
import { InvalidRequestException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { SecretFiles } from './secret-files';
import type { StoredSecret } from './stored-secret';

export const CURRENT = 'AWSCURRENT';
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
export const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";

/** What an operation answers before `send` adds `$metadata`: at once, or once its file is created. */
export type Answer = object | Promise<object>;

type ExceptionClass = new (options: { message: string; $metadata: { httpStatusCode: number } }) => Error;

/** Throws the SDK's own exception, so callers tell the errors apart as they do against AWS. */
export const fail = (Exception: ExceptionClass, message: string): never => {
  throw new Exception({ message, $metadata: { httpStatusCode: 400 } });
};

export class Secrets {
  constructor(
    readonly files: SecretFiles,
    /** `arn:aws:secretsmanager:<region>:<account>:secret:`; a secret's ARN adds its name and a random suffix. */
    readonly arnPrefix: string,
    readonly now: () => Date,
  ) {}

  /** The secret by name or ARN (full, or partial without the random suffix); never a purged one. */
  resolve(secretId: string | undefined): StoredSecret {
    const secret = this.lookup(secretId ?? '');
    return secret ?? fail(ResourceNotFoundException, "Secrets Manager can't find the specified secret.");
  }

  /** A secret whose value may be read or written: found, and not scheduled for deletion. */
  live(secretId: string | undefined): StoredSecret {
    const secret = this.resolve(secretId);
    if (secret.deletedDate) fail(InvalidRequestException, MARKED_FOR_DELETION);
    return secret;
  }

  load(name: string): StoredSecret | undefined {
    if (!SECRET_NAME.test(name)) return undefined;
    const secret = this.files.latest(name);
    return secret && this.unlessPurged(secret);
  }

  /** Secrets Manager deletes a secret for good once its recovery window has passed. */
  unlessPurged(secret: StoredSecret): StoredSecret | undefined {
    if (secret.deletionDate && Date.parse(secret.deletionDate) <= this.now().getTime()) {
      this.files.remove(secret.name);
      return undefined;
    }
    return secret;
  }

  private lookup(secretId: string): StoredSecret | undefined {
    if (!secretId.startsWith('arn:')) return this.load(secretId);
    if (!secretId.startsWith(this.arnPrefix)) return undefined;
    const rest = secretId.slice(this.arnPrefix.length);
    const full = rest.length > 7 && rest.at(-7) === '-' ? this.load(rest.slice(0, -7)) : undefined;
    if (full?.arn === secretId) return full;
    return this.load(rest);
  }
}
