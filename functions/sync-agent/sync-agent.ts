import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type * as z from '../shared/domain/zod';
import { KEYWHIZ, settingsOf, SVID_NAMING } from '../shared/config';
import type { AuditEvent } from '../shared/domain/audit';
import { InvalidRunRequest, RETRYABLE_ERRORS, SecretNotOwned } from '../shared/domain/errors';
import { type KeywhizSecret, recordedChecksum, SECRET_VALUE_MAX_BYTES } from '../shared/domain/keywhiz';
import type { AgentSyncResult, SyncTarget } from '../shared/domain/sync';
import {
  secretDeletedEvent,
  secretFailedEvent,
  secretRefusedEvent,
  secretRestoredEvent,
  type SecretNames,
  secretsUnchangedEvent,
  secretSyncedEvent,
} from '../shared/domain/sync-audit-events';
import { syncedSecretPrefix } from '../shared/domain/synced-secret-name';
import { svidSubject } from '../shared/domain/svid-subject';
import type { AuditSink } from '../shared/ports/audit-sink/audit-sink';
import type { SecretSourceFactory } from '../shared/ports/secret-source/secret-source';
import type {
  SecretStore,
  SecretStoreFactory,
  SyncedSecret,
} from '../shared/ports/secret-store/secret-store';
import type { SvidStore } from '../shared/ports/svid-store/svid-store';
import { stepHandler } from '../shared/step-handler';
import {
  type Failure,
  failureOf,
  guardDeletions,
  type Refusal,
  reconcile,
  type ToFetch,
  tooLarge,
} from './reconcile';

export interface SyncAgentInput {
  runId: string;
  /** One Keywhiz secret (a webhook's targeted sync), or null for the full reconcile. */
  secret: string | null;
  target: SyncTarget;
}

export const settings = settingsOf(
  'AWS_REGION',
  ...SVID_NAMING,
  'CENTRAL_ACCOUNT_ID',
  'ISSUER_ROLE_ARN',
  'AUDIT_BUS_NAME',
  ...KEYWHIZ,
  'SYNC_SECRET_PREFIX',
  'SYNC_KMS_KEY_ID',
  'SYNC_RECOVERY_WINDOW_DAYS',
  'SYNC_MAX_DELETE_SHARE',
);

export interface SyncAgentDependencies {
  config: z.infer<typeof settings>;
  logger: Logger;
  /** The central SVID store, read-only here: the agent shows Keywhiz its own service's SVID. */
  svids: Pick<SvidStore, 'read'>;
  secretSource: SecretSourceFactory;
  secretStore: SecretStoreFactory;
  audit: AuditSink;
}

/** Writes in flight at once: Secrets Manager's PutSecretValue quota (about 50 TPS) is shared by the account. */
const WRITE_CONCURRENCY = 8;
/** A retryable error fails the whole agent so the state machine's Retry runs it again; all it did is idempotent. */
const RETRYABLE: ReadonlySet<string> = new Set(RETRYABLE_ERRORS);

/**
 * The sync agent of one (account, service): lists the service's secrets in Keywhiz over mTLS with the service's
 * own SVID, compares checksums with the tags in the account's Secrets Manager, reads and writes only what changed,
 * deletes what Keywhiz no longer lists (within the mass-deletion guard), and audits each outcome. A secret whose
 * fetch fails on its own fails alone (audited, the account replayable); a failed listing fails the whole agent and
 * changes nothing. Secret values live only inside this invocation; the result carries counts.
 */
export const syncAgent =
  (deps: SyncAgentDependencies) =>
  async ({ runId, secret, target }: SyncAgentInput, context?: Pick<Context, 'invokedFunctionArn'>) => {
    const { config } = deps;
    assertOwnAccount(target, context);
    const { secretName: svidName } = svidSubject(config, target);
    // By ARN: on AWS the SVID lives in the central account. A partial ARN (no random suffix) is enough.
    // The issuer role is the central account's, so its partition (aws, aws-cn, aws-us-gov) is the SVID's.
    const partition = config.ISSUER_ROLE_ARN.split(':')[1];
    const svid = await deps.svids.read(
      `arn:${partition}:secretsmanager:${config.AWS_REGION}:${config.CENTRAL_ACCOUNT_ID}:secret:${svidName}`,
    );
    // Keywhiz's certificate is verified against Keywhiz's own CA (kept in this account), not the SVID's bundle.
    const source = await deps.secretSource(
      { certificateChainPem: svid.x509SVID, privateKeyPem: svid.x509SVIDKey },
      target.accountId,
    );
    const store = deps.secretStore(target.accountId);
    const prefix = syncedSecretPrefix(config.SYNC_SECRET_PREFIX, target.environment, target.service);
    try {
      // A failed listing throws before anything is written: the account's store stays the reliable cache.
      const [listing, stored] = await Promise.all([source.list(), store.listSynced(prefix)]);
      const plan = reconcile(listing, stored, prefix, secret ?? undefined);
      const outcome = new Outcome(runId, target);
      outcome.unchanged = plan.unchanged;
      plan.refusals.forEach((r) => outcome.refuse(r));
      plan.failures.forEach((f) => outcome.fail(f));

      // Every read happens before the first write: a failure of the whole fetch (Keywhiz gone, 401) changes nothing.
      const fetched =
        plan.fetch.length > 0
          ? await source.fetch(plan.fetch.map((f) => f.keywhizName))
          : { secrets: new Map(), failed: new Map() };
      const gone: SyncedSecret[] = [];
      await forEachLimited(plan.fetch, WRITE_CONCURRENCY, async (item) => {
        const names = { keywhizName: item.keywhizName, secretName: item.secretName };
        // This one failed on its own (403: unassigned since the listing; 5xx): the account keeps its last good
        // copy, and the others go on, as keysync does.
        const failed = fetched.failed.get(item.keywhizName);
        if (failed) return outcome.fail({ ...failureOf(failed), names });
        const content: KeywhizSecret | undefined = fetched.secrets.get(item.keywhizName);
        // Listed a moment ago, 404 now: deleted in between.
        if (!content) return void (item.stored && gone.push(item.stored));
        await write(store, target, item, content, outcome);
      });
      for (const s of plan.restore) {
        await store.restore(s);
        outcome.restored(s);
      }
      const guarded = guardDeletions([...plan.remove, ...gone], stored, config.SYNC_MAX_DELETE_SHARE);
      if (guarded.refusal) outcome.refuse(guarded.refusal);
      for (const s of guarded.remove) {
        const { deletionDate } = await store.remove(s, config.SYNC_RECOVERY_WINDOW_DAYS);
        outcome.events.push(secretDeletedEvent(runId, target, s, deletionDate));
        outcome.deleted += 1;
      }
      return await outcome.publish(deps.audit, deps.logger);
    } finally {
      source.close();
    }
  };

/** On AWS the agent runs in the enrolled account and may sync that account only. */
const assertOwnAccount = (target: SyncTarget, context?: Pick<Context, 'invokedFunctionArn'>) => {
  const account = context?.invokedFunctionArn?.split(':')[4];
  if (account && account !== target.accountId) {
    throw new InvalidRunRequest(
      `this agent runs in account ${account} and cannot sync account ${target.accountId}`,
    );
  }
};

const write = async (
  store: SecretStore,
  target: SyncTarget,
  item: ToFetch,
  secret: KeywhizSecret,
  outcome: Outcome,
): Promise<void> => {
  const names = { keywhizName: item.keywhizName, secretName: item.secretName };
  if (secret.content.byteLength > SECRET_VALUE_MAX_BYTES) {
    return outcome.fail({ ...tooLarge(item.keywhizName, secret.content.byteLength), names });
  }
  // An old Keywhiz gives no checksum: the content's digest stands in, so unchanged content is still not rewritten.
  const checksum = secret.checksum ?? item.info.checksum ?? contentDigest(secret.content);
  if (item.stored?.checksum === recordedChecksum(checksum) && item.stored.deletedAt === undefined) {
    outcome.unchanged += 1;
    return;
  }
  const updateDate = secret.updateDate ?? item.info.updateDate;
  try {
    const written = await store.write({
      ...names,
      service: target.service,
      environment: target.environment,
      checksum,
      ...(updateDate !== undefined ? { updateDate } : {}),
      content: secret.content,
      ...(item.stored ? { existing: item.stored } : {}),
    });
    outcome.events.push(
      secretSyncedEvent(outcome.runId, target, names, {
        checksum,
        ...(updateDate !== undefined ? { updateDate } : {}),
        versionId: written.versionId,
        created: written.created,
      }),
    );
    outcome.synced += 1;
    // It came back, with new content, within its recovery window.
    if (written.restored) outcome.restored(names);
  } catch (error) {
    if (RETRYABLE.has((error as Error).name)) throw error;
    if (error instanceof SecretNotOwned) {
      return outcome.refuse({ reason: 'not-owned', message: error.message, names });
    }
    outcome.fail({ ...failureOf(error), names });
  }
};

const contentDigest = (content: Uint8Array): string =>
  `sha256:${createHash('sha256').update(content).digest('hex')}`;

/** Counts and audit events of one agent run. */
class Outcome {
  synced = 0;
  unchanged = 0;
  deleted = 0;
  restoredCount = 0;
  refused = 0;
  failed = 0;
  readonly events: AuditEvent[] = [];

  constructor(
    readonly runId: string,
    private readonly target: SyncTarget,
  ) {}

  restored(names: SecretNames): void {
    this.restoredCount += 1;
    this.events.push(secretRestoredEvent(this.runId, this.target, names));
  }

  refuse(refusal: Refusal): void {
    this.refused += refusal.count ?? 1;
    this.events.push(secretRefusedEvent(this.runId, this.target, refusal));
  }

  fail(failure: Failure): void {
    this.failed += 1;
    this.events.push(secretFailedEvent(this.runId, this.target, failure));
  }

  async publish(audit: AuditSink, logger: Logger): Promise<AgentSyncResult> {
    if (this.unchanged > 0) this.events.push(secretsUnchangedEvent(this.runId, this.target, this.unchanged));
    await audit.publish(this.events);
    const { accountId, service, environment } = this.target;
    const result: AgentSyncResult = {
      status: 'done',
      accountId,
      service,
      environment,
      synced: this.synced,
      unchanged: this.unchanged,
      deleted: this.deleted,
      restored: this.restoredCount,
      refused: this.refused,
      failed: this.failed,
    };
    // Powertools reserves `service` (its own serviceName) and drops it with a warning: log the enrolled one apart.
    const { service: enrolledService, ...counts } = result;
    logger.info('secrets synced', { ...counts, enrolledService });
    return result;
  }
}

/** Runs `fn` over the items with at most `limit` at a time; the first error is thrown once all have settled. */
const forEachLimited = async <T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
};

export const createHandler = (deps: SyncAgentDependencies) => stepHandler(syncAgent(deps), deps.logger);
