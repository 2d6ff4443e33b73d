import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { link, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueCommandInput,
  CreateSecretCommand,
  type CreateSecretCommandInput,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  type DeleteSecretCommandInput,
  DescribeSecretCommand,
  type Filter,
  GetResourcePolicyCommand,
  type GetResourcePolicyCommandInput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  MalformedPolicyDocumentException,
  PublicPolicyException,
  PutResourcePolicyCommand,
  type PutResourcePolicyCommandInput,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretListEntry,
  type SecretValueEntry,
  TagResourceCommand,
  type TagResourceCommandInput,
  UntagResourceCommand,
  type UntagResourceCommandInput,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerApi } from '../../functions/shared/aws/clients';
import * as z from '../../functions/shared/domain/zod';
import { parseJson, type Warn, warnOnStderr } from './damaged-files';

/** What a Secrets Manager adapter needs: the SDK client and LocalSecretsManager both satisfy it. */

export type SecretsManagerOperation =
  | 'CreateSecret'
  | 'PutSecretValue'
  | 'DescribeSecret'
  | 'ListSecrets'
  | 'GetSecretValue'
  | 'TagResource'
  | 'UntagResource'
  | 'PutResourcePolicy'
  | 'GetResourcePolicy'
  | 'DeleteResourcePolicy'
  | 'DeleteSecret'
  | 'RestoreSecret'
  | 'BatchGetSecretValue'
  | 'UpdateSecretVersionStage';

const storedVersionSchema = z.object({
  versionId: z.string(),
  stages: z.array(z.string()),
  createdAt: z.string(),
  SecretString: z.optional(z.string()),
  /** Base64. */
  SecretBinary: z.optional(z.string()),
});
export type StoredSecretVersion = z.infer<typeof storedVersionSchema>;

/** The content of one secret's file, `<dataDir>/secretsmanager/<accountId>/<encodeURIComponent(name)>.json`. */
const storedSecretSchema = z.object({
  name: z.string(),
  arn: z.string(),
  description: z.optional(z.string()),
  kmsKeyId: z.optional(z.string()),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  resourcePolicy: z.optional(z.string()),
  createdDate: z.string(),
  lastChangedDate: z.string(),
  /** When deletion was requested; the secret answers InvalidRequestException until restored. */
  deletedDate: z.optional(z.string()),
  /** When a secret scheduled for deletion is purged for good (deletedDate + recovery window). */
  deletionDate: z.optional(z.string()),
  versions: z.array(storedVersionSchema),
});
export type StoredSecret = z.infer<typeof storedSecretSchema>;

/**
 * A secret's file that does not hold that secret (cut short, edited by hand): every call on that secret fails
 * with this, naming the file, while the other secrets answer as usual. Not an AWS error: AWS has no such state.
 */
export class DamagedSecretFile extends Error {
  override readonly name = 'DamagedSecretFile';
}

const MAX_VALUE_BYTES = 65_536;
const MAX_TAGS = 50;
const MAX_LIST_RESULTS = 100;
const MAX_BATCH = 20;
/** Secrets Manager keeps 100 versions, and every version from the last 24 hours. */
const KEPT_VERSIONS = 100;
const KEEP_RECENT_MS = 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** A directory changed this recently may change again within the same timestamp tick: rescan it. */
const DIR_STAMP_SETTLE_MS = 100;
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]{0,512}$/;
const ARN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** `.<file>.<pid of the writer>.<random>.tmp`: a secret's next content, in full, before it is put in place. */
const TEMPORARY_FILE = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;
const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";

type ExceptionClass = new (options: { message: string; $metadata: { httpStatusCode: number } }) => Error;
const fail = (Exception: ExceptionClass, message: string): never => {
  throw new Exception({ message, $metadata: { httpStatusCode: 400 } });
};

type Value = { SecretString?: string; SecretBinary?: string };
type Answer = object | Promise<object>;

/** Temporary files this process is writing, over every instance: a reopening in this process leaves these. */
const writingHere = new Set<string>();

type SortBy = 'name' | 'created-date' | 'last-changed-date';

/**
 * Secrets Manager on disk, answering the SDK's own commands through `send`, so one adapter serves AWS and
 * local mode. The files are the truth: every single-secret call reads its file, every write replaces it
 * atomically, and a second instance over the same directory sees each write. Listing uses an in-memory
 * index that is refreshed whenever the directory changed. Work is synchronous inside `send`, so calls
 * within a process never interleave on a file. A file that does not parse fails only the calls on its secret.
 */
export class LocalSecretsManager {
  /** Calls per operation, failed ones included, for benchmarks and tests. */
  readonly calls: Record<string, number> = {};

  readonly send: SecretsManagerApi['send'] = ((command: unknown) =>
    this.handle(command)) as unknown as SecretsManagerApi['send'];

  private readonly dir: string;
  private readonly arnPrefix: string;
  private readonly now: () => Date;
  private readonly faults = new Map<string, { error: unknown; remaining: number }>();
  private readonly index = new Map<string, { stamp: string; secret: StoredSecret }>();
  private readonly sorted = new Map<string, StoredSecret[]>();
  private dirStamp: string | undefined;
  /** Files the listing leaves out because they do not parse, by the stamp they were warned about at. */
  private readonly damaged = new Map<string, string>();
  private readonly warn: Warn;
  /**
   * File writes still under way, per file, in call order: the newest content (undefined for a removal) and
   * when it is on disk. Reads see the newest content at once; each call resolves only once its own writes
   * are on disk, so a second instance sees them then. The writes run on libuv's threads, beside the
   * caller's work on the main thread.
   */
  private readonly writing = new Map<string, { secret: StoredSecret | undefined; done: Promise<void> }>();
  /** Writes started by the call running now (calls run synchronously up to their writes). */
  private callWrites: Promise<void>[] = [];

  constructor(options: {
    dataDir: string;
    accountId: string;
    region?: string;
    now?: () => Date;
    /** Told of a file the listing leaves out and of unfinished writes removed; standard error by default. */
    onWarning?: Warn;
  }) {
    this.dir = join(options.dataDir, 'secretsmanager', options.accountId);
    this.arnPrefix = `arn:aws:secretsmanager:${options.region ?? 'us-east-1'}:${options.accountId}:secret:`;
    this.now = options.now ?? (() => new Date());
    this.warn = options.onWarning ?? warnOnStderr;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.removeUnfinishedWrites();
  }

  /** The next `times` calls of `operation` throw `error` (e.g. a ThrottlingException) before doing anything. */
  failNext(operation: SecretsManagerOperation, error: unknown, times = 1): void {
    this.faults.set(operation, { error, remaining: times });
  }

  private async handle(command: unknown): Promise<object> {
    const [operation, run] = this.route(command);
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    const fault = this.faults.get(operation);
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults.delete(operation);
      throw fault.error;
    }
    this.callWrites = [];
    let answer: Answer | undefined;
    let failure: { error: unknown } | undefined;
    try {
      answer = run();
    } catch (error) {
      failure = { error };
    }
    const writes = this.callWrites;
    this.callWrites = [];
    // A failing call may have written too (a read that purges an expired secret): it ends once on disk.
    const [output] = await Promise.all([answer, ...writes]);
    if (failure) throw failure.error;
    return { ...output, $metadata: { httpStatusCode: 200 } };
  }

  private route(c: unknown): [SecretsManagerOperation, () => Answer] {
    if (c instanceof CreateSecretCommand) return ['CreateSecret', () => this.createSecret(c.input)];
    if (c instanceof PutSecretValueCommand) return ['PutSecretValue', () => this.putSecretValue(c.input)];
    if (c instanceof DescribeSecretCommand) return ['DescribeSecret', () => this.describe(c.input.SecretId)];
    if (c instanceof ListSecretsCommand) return ['ListSecrets', () => this.listSecrets(c.input)];
    if (c instanceof GetSecretValueCommand) return ['GetSecretValue', () => this.getSecretValue(c.input)];
    if (c instanceof TagResourceCommand) return ['TagResource', () => this.tagResource(c.input)];
    if (c instanceof UntagResourceCommand) return ['UntagResource', () => this.untagResource(c.input)];
    if (c instanceof PutResourcePolicyCommand)
      return ['PutResourcePolicy', () => this.putResourcePolicy(c.input)];
    if (c instanceof GetResourcePolicyCommand)
      return ['GetResourcePolicy', () => this.getResourcePolicy(c.input)];
    if (c instanceof DeleteResourcePolicyCommand)
      return ['DeleteResourcePolicy', () => this.deleteResourcePolicy(c.input.SecretId)];
    if (c instanceof DeleteSecretCommand) return ['DeleteSecret', () => this.deleteSecret(c.input)];
    if (c instanceof RestoreSecretCommand) return ['RestoreSecret', () => this.restore(c.input.SecretId)];
    if (c instanceof BatchGetSecretValueCommand)
      return ['BatchGetSecretValue', () => this.batchGetSecretValue(c.input)];
    if (c instanceof UpdateSecretVersionStageCommand)
      return ['UpdateSecretVersionStage', () => this.updateSecretVersionStage(c.input)];
    const name = (c as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof c;
    throw new Error(`LocalSecretsManager does not implement ${name}`);
  }

  // --- operations -------------------------------------------------------------------------------

  private createSecret(input: CreateSecretCommandInput): Answer {
    const name = input.Name ?? '';
    if (!SECRET_NAME.test(name)) {
      fail(
        InvalidParameterException,
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const value = requestedValue(input, false);
    const token = requestToken(input.ClientRequestToken);
    const existing = this.load(name);
    if (existing) return createdBefore(existing, token, value);
    const tags = mergeTags([], input.Tags ?? []);
    const at = this.now().toISOString();
    const secret: StoredSecret = {
      name,
      arn: `${this.arnPrefix}${name}-${randomSuffix()}`,
      ...(input.Description !== undefined && { description: input.Description }),
      ...(input.KmsKeyId !== undefined && { kmsKeyId: input.KmsKeyId }),
      tags,
      createdDate: at,
      lastChangedDate: at,
      versions: value ? [{ versionId: token, stages: [CURRENT], createdAt: at, ...value }] : [],
    };
    const created = { ARN: secret.arn, Name: name, ...(value && { VersionId: token }) };
    return this.write(secret, 'create').then(
      () => created,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Another process created it since we looked: answer as for a secret that was there.
        const theirs = this.read(this.file(name));
        return theirs
          ? createdBefore(theirs, token, value)
          : fail(ResourceExistsException, `The operation failed because the secret ${name} already exists.`);
      },
    );
  }

  private putSecretValue(input: PutSecretValueCommandInput) {
    const secret = this.writable(input.SecretId);
    const value = requestedValue(input, true) as Value;
    const token = requestToken(input.ClientRequestToken);
    const version = secret.versions.find((v) => v.versionId === token);
    if (version) {
      assertSameValue(secret, version, value);
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
    }
    const at = this.now().toISOString();
    const stages = [...new Set(input.VersionStages ?? [CURRENT])];
    if (secret.versions.length === 0 && !stages.includes(CURRENT)) stages.push(CURRENT);
    moveStages(secret.versions, stages);
    secret.versions.push({ versionId: token, stages, createdAt: at, ...value });
    secret.versions = this.keptVersions(secret.versions);
    secret.lastChangedDate = at;
    this.save(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: stages };
  }

  private describe(secretId: string | undefined) {
    const s = this.resolve(secretId);
    return { ...metadataOf(s), VersionIdsToStages: versionsToStages(s) };
  }

  private listSecrets(input: ListSecretsCommandInput) {
    const max = input.MaxResults ?? MAX_LIST_RESULTS;
    if (!Number.isInteger(max) || max < 1 || max > MAX_LIST_RESULTS) {
      fail(InvalidParameterException, `MaxResults must be between 1 and ${MAX_LIST_RESULTS}.`);
    }
    const sortBy = (input.SortBy ?? 'created-date') as SortBy;
    if (!['name', 'created-date', 'last-changed-date'].includes(sortBy)) {
      fail(InvalidParameterException, `SortBy ${sortBy} is not supported here.`);
    }
    const page = this.page({
      filters: input.Filters ?? [],
      max,
      nextToken: input.NextToken,
      includeDeleted: input.IncludePlannedDeletion ?? false,
      sortBy,
      descending: (input.SortOrder ?? 'desc') === 'desc',
    });
    const SecretList: SecretListEntry[] = page.secrets.map((s) => ({
      ...metadataOf(s),
      SecretVersionsToStages: versionsToStages(s),
    }));
    return { SecretList, ...(page.nextToken && { NextToken: page.nextToken }) };
  }

  private getSecretValue(input: GetSecretValueCommandInput): SecretValueEntry {
    const secret = this.resolve(input.SecretId);
    if (secret.deletedDate) fail(InvalidRequestException, MARKED_FOR_DELETION);
    let version: StoredSecretVersion | undefined;
    if (input.VersionId !== undefined) {
      version = secret.versions.find((v) => v.versionId === input.VersionId);
      if (!version) {
        fail(
          ResourceNotFoundException,
          `Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`,
        );
      }
      if (input.VersionStage !== undefined && !version?.stages.includes(input.VersionStage)) {
        fail(
          InvalidRequestException,
          'You provided a VersionStage that is not associated to the provided VersionId.',
        );
      }
    } else {
      const stage = input.VersionStage ?? CURRENT;
      version = secret.versions.find((v) => v.stages.includes(stage));
      if (!version) {
        fail(
          ResourceNotFoundException,
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
      }
    }
    const v = version as StoredSecretVersion;
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: v.versionId,
      ...(v.SecretString !== undefined && { SecretString: v.SecretString }),
      ...(v.SecretBinary !== undefined && {
        SecretBinary: new Uint8Array(Buffer.from(v.SecretBinary, 'base64')),
      }),
      VersionStages: [...v.stages],
      CreatedDate: new Date(v.createdAt),
    };
  }

  /** Moves a label onto a version (or off one); a label taken from another version must be named there. */
  private updateSecretVersionStage(input: UpdateSecretVersionStageCommandInput) {
    const secret = this.writable(input.SecretId);
    const stage = input.VersionStage ?? '';
    if (stage.length < 1 || stage.length > 256) {
      fail(InvalidParameterException, 'VersionStage must be 1-256 characters long.');
    }
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    const target =
      input.MoveToVersionId === undefined
        ? undefined
        : secret.versions.find((v) => v.versionId === input.MoveToVersionId);
    if (input.MoveToVersionId !== undefined && !target) {
      fail(
        ResourceNotFoundException,
        `Secrets Manager can't find the specified secret version: ${input.MoveToVersionId}`,
      );
    }
    if (holder && holder !== target && input.RemoveFromVersionId !== holder.versionId) {
      fail(
        InvalidParameterException,
        `The staging label ${stage} is currently attached to version ${holder.versionId}; specify that version as RemoveFromVersionId to move it.`,
      );
    }
    if (!target && stage === CURRENT) {
      fail(InvalidParameterException, `You can't remove the staging label ${CURRENT} without moving it.`);
    }
    if (holder !== target) {
      moveStages(secret.versions, [stage]);
      target?.stages.push(stage);
      secret.lastChangedDate = this.now().toISOString();
      this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private tagResource(input: TagResourceCommandInput) {
    const secret = this.writable(input.SecretId);
    secret.tags = mergeTags(secret.tags, input.Tags ?? []);
    this.save(secret);
    return {};
  }

  private untagResource(input: UntagResourceCommandInput) {
    const secret = this.writable(input.SecretId);
    const removed = new Set(input.TagKeys ?? []);
    secret.tags = secret.tags.filter((t) => !removed.has(t.Key));
    this.save(secret);
    return {};
  }

  private putResourcePolicy(input: PutResourcePolicyCommandInput) {
    const secret = this.writable(input.SecretId);
    const policy = parsePolicy(input.ResourcePolicy ?? '');
    if (input.BlockPublicPolicy && grantsPublicAccess(policy)) {
      fail(
        PublicPolicyException,
        'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.',
      );
    }
    secret.resourcePolicy = input.ResourcePolicy;
    this.save(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  private getResourcePolicy(input: GetResourcePolicyCommandInput) {
    const secret = this.resolve(input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.resourcePolicy !== undefined && { ResourcePolicy: secret.resourcePolicy }),
    };
  }

  /** Removes the policy; a secret without one answers the same. */
  private deleteResourcePolicy(secretId: string | undefined) {
    const secret = this.writable(secretId);
    if (secret.resourcePolicy !== undefined) {
      delete secret.resourcePolicy;
      this.save(secret);
    }
    return { ARN: secret.arn, Name: secret.name };
  }

  private deleteSecret(input: DeleteSecretCommandInput) {
    const force = input.ForceDeleteWithoutRecovery ?? false;
    if (force && input.RecoveryWindowInDays !== undefined) {
      fail(
        InvalidParameterException,
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    const days = input.RecoveryWindowInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      fail(
        InvalidParameterException,
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const secret = this.resolve(input.SecretId);
    const now = this.now();
    if (force) {
      this.remove(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
    }
    if (secret.deletedDate) fail(InvalidRequestException, MARKED_FOR_DELETION);
    const deletionDate = new Date(now.getTime() + days * DAY_MS);
    secret.deletedDate = now.toISOString();
    secret.deletionDate = deletionDate.toISOString();
    this.save(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
  }

  private restore(secretId: string | undefined) {
    const secret = this.resolve(secretId);
    delete secret.deletedDate;
    delete secret.deletionDate;
    this.save(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  private batchGetSecretValue(input: BatchGetSecretValueCommandInput) {
    if (input.SecretIdList && input.Filters) {
      fail(InvalidParameterException, "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
    }
    if (input.SecretIdList) {
      if (input.MaxResults !== undefined) {
        fail(
          InvalidParameterException,
          "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
        );
      }
      if (input.SecretIdList.length < 1 || input.SecretIdList.length > MAX_BATCH) {
        fail(InvalidParameterException, `SecretIdList must hold between 1 and ${MAX_BATCH} secret IDs.`);
      }
      const SecretValues: SecretValueEntry[] = [];
      const Errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
      for (const id of input.SecretIdList) {
        try {
          SecretValues.push(this.getSecretValue({ SecretId: id }));
        } catch (error) {
          const perSecret =
            error instanceof ResourceNotFoundException ||
            error instanceof InvalidRequestException ||
            error instanceof DamagedSecretFile;
          if (!perSecret) throw error;
          Errors.push({ SecretId: id, ErrorCode: error.name, Message: error.message });
        }
      }
      return { SecretValues, Errors };
    }
    if (!input.Filters)
      fail(InvalidParameterException, "Either 'SecretIdList' or 'Filters' must be provided.");
    const max = input.MaxResults ?? MAX_BATCH;
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
      fail(InvalidParameterException, `MaxResults must be between 1 and ${MAX_BATCH}.`);
    }
    const page = this.page({
      filters: input.Filters ?? [],
      max,
      nextToken: input.NextToken,
      includeDeleted: false,
      sortBy: 'created-date',
      descending: true,
    });
    return {
      SecretValues: page.secrets
        .filter((s) => s.versions.some((v) => v.stages.includes(CURRENT)))
        .map((s) => this.getSecretValue({ SecretId: s.name })),
      Errors: [],
      ...(page.nextToken && { NextToken: page.nextToken }),
    };
  }

  // --- storage ----------------------------------------------------------------------------------

  private file(name: string): string {
    return `${encodeURIComponent(name)}.json`;
  }

  /** The secret by name or ARN (full, or partial without the random suffix); never a purged one. */
  private resolve(secretId: string | undefined): StoredSecret {
    const secret = this.lookup(secretId ?? '');
    return secret ?? fail(ResourceNotFoundException, "Secrets Manager can't find the specified secret.");
  }

  private lookup(secretId: string): StoredSecret | undefined {
    if (!secretId.startsWith('arn:')) return this.load(secretId);
    if (!secretId.startsWith(this.arnPrefix)) return undefined;
    const rest = secretId.slice(this.arnPrefix.length);
    const full = rest.length > 7 && rest.at(-7) === '-' ? this.load(rest.slice(0, -7)) : undefined;
    if (full?.arn === secretId) return full;
    return this.load(rest);
  }

  /** A secret that may be written: found, and not scheduled for deletion. */
  private writable(secretId: string | undefined): StoredSecret {
    const secret = this.resolve(secretId);
    if (secret.deletedDate) fail(InvalidRequestException, MARKED_FOR_DELETION);
    return secret;
  }

  private load(name: string): StoredSecret | undefined {
    if (!SECRET_NAME.test(name)) return undefined;
    const file = this.file(name);
    const pending = this.writing.get(file);
    if (pending) return pending.secret && this.unlessPurged(pending.secret);
    const secret = this.read(file);
    return secret && this.unlessPurged(secret);
  }

  /** What the file holds, past any write of this process; undefined without a file. */
  private read(file: string): StoredSecret | undefined {
    const path = join(this.dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseStoredSecret(text, path, decodeURIComponent(file.slice(0, -'.json'.length)));
  }

  /** Secrets Manager deletes a secret for good once its recovery window has passed. */
  private unlessPurged(secret: StoredSecret): StoredSecret | undefined {
    if (secret.deletionDate && Date.parse(secret.deletionDate) <= this.now().getTime()) {
      this.remove(secret.name);
      return undefined;
    }
    return secret;
  }

  /** Replaces the secret's file; the current call ends once it is on disk. */
  private save(secret: StoredSecret): void {
    this.callWrites.push(this.write(secret, 'replace'));
  }

  /**
   * Writes the whole file under a temporary name, then puts it in place: by rename, or for a new secret by
   * link, which fails with EEXIST when another process created that file meanwhile where rename would
   * replace it. A crash in between leaves the temporary file, named by this process's id for the next
   * opening to remove.
   */
  private write(secret: StoredSecret, how: 'replace' | 'create'): Promise<void> {
    const file = this.file(secret.name);
    const path = join(this.dir, file);
    const text = `${JSON.stringify(secret, null, 2)}\n`;
    this.index.set(file, { stamp: 'writing', secret });
    this.sorted.clear();
    return this.enqueue(file, secret, async () => {
      const temporary = join(this.dir, `.${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      writingHere.add(temporary);
      try {
        await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
        if (how === 'create') await link(temporary, path);
        else await rename(temporary, path);
      } finally {
        if (how === 'create') await unlink(temporary).catch(() => undefined);
        writingHere.delete(temporary);
      }
      const entry = this.index.get(file);
      if (entry?.secret === secret) entry.stamp = stampOf(await stat(path, { bigint: true }));
    });
  }

  private remove(name: string): void {
    const file = this.file(name);
    if (this.index.delete(file)) this.sorted.clear();
    const removal = this.enqueue(file, undefined, async () => {
      try {
        await unlink(join(this.dir, file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    });
    this.callWrites.push(removal);
  }

  /**
   * Runs a file write after the earlier ones of the same file (a write after one that failed fails too: it
   * built on content that is not on disk). A failed write leaves the file as it was, so the index forgets it.
   */
  private enqueue(file: string, secret: StoredSecret | undefined, write: () => Promise<void>): Promise<void> {
    const previous = this.writing.get(file)?.done ?? Promise.resolve();
    const done = previous.then(write);
    const entry = { secret, done };
    this.writing.set(file, entry);
    const settle = () => {
      if (this.writing.get(file) === entry) this.writing.delete(file);
    };
    const forget = () => {
      settle();
      if (this.index.get(file)?.secret === secret) this.index.delete(file);
      this.sorted.clear();
      this.dirStamp = undefined;
    };
    done.then(settle, forget);
    return done;
  }

  /**
   * Removes the temporary files of writers that are gone (a process killed between writing and renaming):
   * they hold secret values no secret refers to. A live writer's are left alone, this process's included.
   */
  private removeUnfinishedWrites(): void {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const writer = TEMPORARY_FILE.exec(name)?.[1];
      const path = join(this.dir, name);
      if (writer === undefined || writerAlive(Number(writer), path)) continue;
      try {
        unlinkSync(path);
        removed += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    if (removed > 0) {
      this.warn(
        `removed ${removed} unfinished secret write(s) from ${this.dir}, left by a process that stopped mid-write; ` +
          'those calls never answered, and their secrets keep the content they had before',
      );
    }
  }

  /** Brings the index up to date with the directory: only files whose inode, size or mtime changed are read. */
  private refresh(): void {
    const dirStat = statSync(this.dir, { bigint: true });
    const stamp = `${dirStat.ino}:${dirStat.mtimeNs}`;
    if (stamp === this.dirStamp) return;
    const seen = new Set<string>();
    const listed = new Set(readdirSync(this.dir));
    for (const file of listed) {
      if (file.startsWith('.') || !file.endsWith('.json')) continue;
      // A file being written is already in the index with its newest content.
      if (this.writing.has(file)) {
        seen.add(file);
        continue;
      }
      let current: string | undefined;
      let secret: StoredSecret | undefined;
      try {
        current = fileStamp(join(this.dir, file));
        if (this.index.get(file)?.stamp === current) {
          seen.add(file);
          continue;
        }
        if (this.damaged.get(file) === current) continue;
        secret = this.read(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        if (!(error instanceof DamagedSecretFile) || current === undefined) throw error;
        // One unreadable secret must not hide all the others: list them, and say which one is left out.
        this.damaged.set(file, current);
        this.warn(`ListSecrets leaves out a secret: ${error.message}`);
        continue;
      }
      if (!secret) continue;
      seen.add(file);
      this.damaged.delete(file);
      this.index.set(file, { stamp: current, secret });
      this.sorted.clear();
    }
    for (const file of this.damaged.keys()) if (!listed.has(file)) this.damaged.delete(file);
    for (const file of this.writing.keys()) seen.add(file);
    for (const file of this.index.keys()) {
      if (!seen.has(file)) {
        this.index.delete(file);
        this.sorted.clear();
      }
    }
    const settled = Date.now() - Number(dirStat.mtimeMs) > DIR_STAMP_SETTLE_MS;
    this.dirStamp = settled ? stamp : undefined;
  }

  private page(query: {
    filters: Filter[];
    max: number;
    nextToken: string | undefined;
    includeDeleted: boolean;
    sortBy: SortBy;
    descending: boolean;
  }): { secrets: StoredSecret[]; nextToken?: string } {
    const matches = compileFilters(query.filters);
    this.refresh();
    const order = `${query.sortBy}:${query.descending}`;
    const compare = comparator(query.sortBy, query.descending);
    let all = this.sorted.get(order);
    if (!all) {
      all = [...this.index.values()].map((e) => e.secret).sort(compare);
      this.sorted.set(order, all);
    }
    let start = 0;
    if (query.nextToken !== undefined) {
      const after = decodeCursor(query.nextToken, order);
      start = firstAfter(all, after, compare);
    }
    const secrets: StoredSecret[] = [];
    let i = start;
    for (; i < all.length && secrets.length < query.max; i++) {
      const candidate = all[i] as StoredSecret;
      if (candidate.deletedDate && !query.includeDeleted) continue;
      if (!matches(candidate)) continue;
      const live = this.unlessPurged(candidate);
      if (live) secrets.push(live);
    }
    const last = secrets.at(-1);
    const more = last !== undefined && secrets.length === query.max && i < all.length;
    return { secrets, ...(more && { nextToken: encodeCursor(last, order) }) };
  }

  private keptVersions(versions: StoredSecretVersion[]): StoredSecretVersion[] {
    const cutoff = this.now().getTime() - KEEP_RECENT_MS;
    const newestFirst = [...versions].reverse();
    const kept = newestFirst.filter(
      (v, i) => i < KEPT_VERSIONS || v.stages.length > 0 || Date.parse(v.createdAt) > cutoff,
    );
    return kept.reverse();
  }
}

// --- helpers --------------------------------------------------------------------------------------

/** What DescribeSecret and ListSecrets both tell of a secret besides its versions. */
function metadataOf(s: StoredSecret) {
  return {
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined && { Description: s.description }),
    ...(s.kmsKeyId !== undefined && { KmsKeyId: s.kmsKeyId }),
    ...(s.tags.length > 0 && { Tags: s.tags.map((t) => ({ ...t })) }),
    CreatedDate: new Date(s.createdDate),
    LastChangedDate: new Date(s.lastChangedDate),
    ...(s.deletedDate && { DeletedDate: new Date(s.deletedDate) }),
  };
}

/** The answer to a CreateSecret whose name is taken: AWS's, for each state the existing secret may be in. */
function createdBefore(existing: StoredSecret, token: string, value: Value | undefined): object {
  if (existing.deletedDate) {
    fail(
      InvalidRequestException,
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  }
  const version = existing.versions.find((v) => v.versionId === token);
  if (version && value) {
    assertSameValue(existing, version, value);
    return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
  }
  return fail(
    ResourceExistsException,
    `The operation failed because the secret ${existing.name} already exists.`,
  );
}

/** The secret `name` as its file holds it; DamagedSecretFile, naming the file, for anything else. */
function parseStoredSecret(text: string, path: string, name: string): StoredSecret {
  const damaged = (problem: string) =>
    new DamagedSecretFile(
      `${path} is damaged: ${problem}. Restore it from a backup, or delete it and the next run creates ${name} again`,
    );
  const json = parseJson(text);
  if ('problem' in json) throw damaged(json.problem);
  const parsed = storedSecretSchema.safeParse(json.value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'the record'))];
    throw damaged(`not a stored secret (wrong or missing: ${fields.join(', ')})`);
  }
  if (parsed.data.name !== name) throw damaged(`it holds secret ${parsed.data.name}`);
  return parsed.data;
}

/** Whether the process that named a temporary file may still be writing it. */
function writerAlive(pid: number, temporary: string): boolean {
  // A pid can come back after a restart (a container's, say): this process knows its own writes.
  if (pid === process.pid) return writingHere.has(temporary);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileStamp(path: string): string {
  return stampOf(statSync(path, { bigint: true }));
}

function stampOf(s: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}`;
}

function randomSuffix(): string {
  return [...randomBytes(6)].map((b) => ARN_ALPHABET[b % ARN_ALPHABET.length]).join('');
}

function requestToken(token: string | undefined): string {
  // The SDK fills a missing token with a UUID; this stand-in sits in front of that middleware.
  if (token === undefined) return randomUUID();
  if (token.length < 32 || token.length > 64) {
    fail(InvalidParameterException, 'ClientRequestToken must be 32-64 characters long.');
  }
  return token;
}

/** The value of a create or put, stored form (binary as base64); undefined when none is given. */
function requestedValue(
  input: { SecretString?: string; SecretBinary?: Uint8Array },
  required: boolean,
): Value | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    fail(
      InvalidParameterException,
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (input.SecretString === undefined && input.SecretBinary === undefined) {
    return required
      ? fail(InvalidRequestException, 'You must provide either SecretString or SecretBinary.')
      : undefined;
  }
  const bytes =
    input.SecretString !== undefined
      ? Buffer.byteLength(input.SecretString, 'utf8')
      : input.SecretBinary?.length;
  if ((bytes ?? 0) > MAX_VALUE_BYTES) {
    fail(InvalidParameterException, `The secret value exceeds the maximum size of ${MAX_VALUE_BYTES} bytes.`);
  }
  return input.SecretString !== undefined
    ? { SecretString: input.SecretString }
    : { SecretBinary: Buffer.from(input.SecretBinary as Uint8Array).toString('base64') };
}

/** A version is immutable: its token may be reused only with the very same value. */
function assertSameValue(secret: StoredSecret, version: StoredSecretVersion, value: Value): void {
  if (version.SecretString !== value.SecretString || version.SecretBinary !== value.SecretBinary) {
    fail(
      ResourceExistsException,
      `You can't use ClientRequestToken ${version.versionId} because that value is already in use for a version of secret ${secret.arn}.`,
    );
  }
}

/** Takes `stages` off the other versions; the version losing AWSCURRENT becomes AWSPREVIOUS. */
function moveStages(versions: StoredSecretVersion[], stages: string[]): void {
  const wasCurrent = stages.includes(CURRENT) ? versions.find((v) => v.stages.includes(CURRENT)) : undefined;
  const moved = new Set(wasCurrent ? [...stages, PREVIOUS] : stages);
  for (const v of versions) v.stages = v.stages.filter((s) => !moved.has(s));
  wasCurrent?.stages.push(PREVIOUS);
}

function versionsToStages(secret: StoredSecret): Record<string, string[]> {
  return Object.fromEntries(
    secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
  );
}

function mergeTags(
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

type Statement = { Effect?: unknown; Principal?: unknown; Condition?: unknown };

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

/** ListSecrets filters: values within a filter are alternatives; filters must all match. */
function compileFilters(filters: Filter[]): (secret: StoredSecret) => boolean {
  const tests = filters.map((filter) => {
    const values = filter.Values ?? [];
    if (values.length < 1 || values.length > 10 || values.some((v) => !FILTER_VALUE.test(v))) {
      fail(InvalidParameterException, `Invalid filter values for key ${filter.Key}.`);
    }
    const attributes = attributesFor(filter.Key);
    return (secret: StoredSecret) =>
      values.some((raw) => {
        const negated = raw.startsWith('!');
        const pattern = negated ? raw.slice(1) : raw;
        const found = attributes.match(attributes.of(secret), pattern);
        return negated ? !found : found;
      });
  });
  return (secret) => tests.every((test) => test(secret));
}

function attributesFor(key: string | undefined): {
  of: (s: StoredSecret) => string[];
  match: (values: string[], pattern: string) => boolean;
} {
  const prefix = (values: string[], pattern: string) => values.some((v) => v.startsWith(pattern));
  switch (key) {
    case 'name':
      return { of: (s) => [s.name], match: prefix };
    case 'tag-key':
      return { of: (s) => s.tags.map((t) => t.Key), match: prefix };
    case 'tag-value':
      return { of: (s) => s.tags.map((t) => t.Value), match: prefix };
    case 'description':
      return { of: (s) => (s.description ? [s.description] : []), match: wordsMatch };
    case 'all':
      return {
        of: (s) => [
          s.name,
          ...(s.description ? [s.description] : []),
          ...s.tags.flatMap((t) => [t.Key, t.Value]),
        ],
        match: wordsMatch,
      };
    case 'primary-region':
    case 'owning-service':
      // Local secrets are neither replicated nor managed by another service.
      return { of: () => [], match: prefix };
    default:
      return fail(InvalidParameterException, `Invalid filter key: ${key}.`);
  }
}

/** Every word of the pattern starts some word of the values, case-insensitively. */
function wordsMatch(values: string[], pattern: string): boolean {
  const wanted = words(pattern);
  const have = values.flatMap(words);
  return wanted.length > 0 && wanted.every((w) => have.some((h) => h.startsWith(w)));
}

function words(text: string): string[] {
  return (text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []).map((w) => w.toLowerCase());
}

function sortKey(secret: StoredSecret, by: SortBy): string {
  if (by === 'name') return secret.name;
  return by === 'created-date' ? secret.createdDate : secret.lastChangedDate;
}

function comparator(by: SortBy, descending: boolean): (a: StoredSecret, b: StoredSecret) => number {
  const sign = descending ? -1 : 1;
  return (a, b) => {
    const byKey = compareStrings(sortKey(a, by), sortKey(b, by));
    return sign * (byKey !== 0 ? byKey : compareStrings(a.name, b.name));
  };
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first secret sorted after the cursor (keyset paging: stable under inserts and deletes). */
function firstAfter(
  all: StoredSecret[],
  after: StoredSecret,
  compare: (a: StoredSecret, b: StoredSecret) => number,
): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compare(all[mid] as StoredSecret, after) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function encodeCursor(last: StoredSecret, order: string): string {
  const cursor = {
    order,
    name: last.name,
    createdDate: last.createdDate,
    lastChangedDate: last.lastChangedDate,
  };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string, order: string): StoredSecret {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { name, createdDate, lastChangedDate } = cursor;
    if (
      cursor.order === order &&
      typeof name === 'string' &&
      typeof createdDate === 'string' &&
      typeof lastChangedDate === 'string'
    ) {
      return { name, arn: '', tags: [], createdDate, lastChangedDate, versions: [] };
    }
  } catch {
    // falls through to the error below
  }
  return fail(InvalidNextTokenException, 'The NextToken value is invalid.');
}
