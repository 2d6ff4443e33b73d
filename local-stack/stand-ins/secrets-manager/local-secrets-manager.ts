/**
 * The stand-in for the SDK's SecretsManagerClient: `send` takes the SDK's own commands and hands each to the
 * module of its concern (a secret's life, its versions, tags and policies, listing), over the files.
 */
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from '../../../functions/shared/aws/clients';
import { type Warn, warnOnStderr } from '../damaged-files';
import { createSecret, deleteSecret, describeSecret, restoreSecret } from './lifecycle';
import { batchGetSecretValue, listSecrets } from './listing';
import { SecretFiles } from './secret-files';
import { type Answer, Secrets } from './secrets';
import {
  deleteResourcePolicy,
  getResourcePolicy,
  putResourcePolicy,
  tagResource,
  untagResource,
} from './tags-and-policies';
import { getSecretValue, putSecretValue, updateSecretVersionStage } from './versions';

/**
 * Secrets Manager on disk, answering the SDK's own commands through `send`, so one adapter serves AWS and
 * local mode. The files are the truth: every single-secret call reads its file, every write replaces it
 * atomically, and a second instance over the same directory sees each write. Work is synchronous inside
 * `send`, so calls within a process never interleave on a file. A file that does not parse fails only the
 * calls on its secret.
 */
export class LocalSecretsManager {
  readonly send: SecretsManagerApi['send'] = ((command: unknown) =>
    this.handle(command)) as unknown as SecretsManagerApi['send'];

  private readonly secrets: Secrets;

  constructor(options: {
    dataDir: string;
    accountId: string;
    region?: string;
    now?: () => Date;
    /** Told of a file the listing leaves out and of unfinished writes removed; standard error by default. */
    onWarning?: Warn;
  }) {
    const files = new SecretFiles(options.dataDir, options.accountId, options.onWarning ?? warnOnStderr);
    const arnPrefix = `arn:aws:secretsmanager:${options.region ?? 'us-east-1'}:${options.accountId}:secret:`;
    this.secrets = new Secrets(files, arnPrefix, options.now ?? (() => new Date()));
  }

  /** Removes the spare files its writes keep (secret-files.ts); calls after it still answer. */
  close(): Promise<void> {
    return this.secrets.files.close();
  }

  private async handle(command: unknown): Promise<object> {
    const output = await this.secrets.files.settle(this.route(command));
    return { ...output, $metadata: { httpStatusCode: 200 } };
  }

  private route(c: unknown): () => Answer {
    const s = this.secrets;
    if (c instanceof CreateSecretCommand) return () => createSecret(s, c.input);
    if (c instanceof PutSecretValueCommand) return () => putSecretValue(s, c.input);
    if (c instanceof DescribeSecretCommand) return () => describeSecret(s, c.input.SecretId);
    if (c instanceof ListSecretsCommand) return () => listSecrets(s, c.input);
    if (c instanceof GetSecretValueCommand) return () => getSecretValue(s, c.input);
    if (c instanceof TagResourceCommand) return () => tagResource(s, c.input);
    if (c instanceof UntagResourceCommand) return () => untagResource(s, c.input);
    if (c instanceof PutResourcePolicyCommand) return () => putResourcePolicy(s, c.input);
    if (c instanceof GetResourcePolicyCommand) return () => getResourcePolicy(s, c.input);
    if (c instanceof DeleteResourcePolicyCommand) return () => deleteResourcePolicy(s, c.input.SecretId);
    if (c instanceof DeleteSecretCommand) return () => deleteSecret(s, c.input);
    if (c instanceof RestoreSecretCommand) return () => restoreSecret(s, c.input.SecretId);
    if (c instanceof BatchGetSecretValueCommand) return () => batchGetSecretValue(s, c.input);
    if (c instanceof UpdateSecretVersionStageCommand) return () => updateSecretVersionStage(s, c.input);
    const name = (c as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof c;
    throw new Error(`LocalSecretsManager does not implement ${name}`);
  }
}
