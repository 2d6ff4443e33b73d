import { type AuditEvent, SECRET_DETAIL_TYPES, type SecretOutcomeStatus } from './audit';
import { auditEventId } from './audit-events';

/** One service's agent in one account, in one run. */
export interface SyncTarget {
  accountId: string;
  service: string;
  environment: string;
}

export interface SecretNames {
  keywhizName: string;
  secretName: string;
}

// Copies only the subject's fields, so no stray property of a wider object (content!) reaches an event.
const subject = (runId: string, t: SyncTarget, status: SecretOutcomeStatus, key: string) => ({
  eventId: auditEventId(runId, `${t.accountId}\n${key}`, `secret-${status}`),
  runId,
  accountId: t.accountId,
  service: t.service,
  environment: t.environment,
});

/** A failure of every agent of an account whose targets were never loaded (its chunk failed first). */
export const chunkFailedEvent = (
  runId: string,
  accountId: string,
  failure: { error: string; message: string },
): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.failed,
  detail: {
    eventId: auditEventId(runId, accountId, 'secret-failed'),
    runId,
    accountId,
    error: failure.error,
    message: failure.message,
  },
});

const names = (n: SecretNames): SecretNames => ({ keywhizName: n.keywhizName, secretName: n.secretName });
const namesIfAny = (n: SecretNames | undefined) => (n ? names(n) : {});

/** The key a secret-less event (unchanged count, account failure) is identified by. */
const serviceKey = (t: SyncTarget) => `${t.environment}/${t.service}`;

export const secretSyncedEvent = (
  runId: string,
  t: SyncTarget,
  n: SecretNames,
  written: { checksum: string; updateDate?: string; versionId: string; created: boolean },
): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.synced,
  detail: {
    ...subject(runId, t, 'synced', n.secretName),
    ...names(n),
    checksum: written.checksum,
    ...(written.updateDate !== undefined ? { updateDate: written.updateDate } : {}),
    versionId: written.versionId,
    created: written.created,
  },
});

export const secretsUnchangedEvent = (runId: string, t: SyncTarget, count: number): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.unchanged,
  detail: { ...subject(runId, t, 'unchanged', serviceKey(t)), count },
});

export const secretDeletedEvent = (
  runId: string,
  t: SyncTarget,
  n: SecretNames,
  deletionDate: string,
): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.deleted,
  detail: { ...subject(runId, t, 'deleted', n.secretName), ...names(n), deletionDate },
});

export const secretRestoredEvent = (runId: string, t: SyncTarget, n: SecretNames): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.restored,
  detail: { ...subject(runId, t, 'restored', n.secretName), ...names(n) },
});

export const secretRefusedEvent = (
  runId: string,
  t: SyncTarget,
  refusal: {
    reason: 'older-than-stored' | 'mass-deletion' | 'not-owned';
    message: string;
    names?: SecretNames;
    count?: number;
  },
): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.refused,
  detail: {
    ...subject(runId, t, 'refused', refusal.names?.secretName ?? serviceKey(t)),
    ...namesIfAny(refusal.names),
    reason: refusal.reason,
    message: refusal.message,
    ...(refusal.count !== undefined ? { count: refusal.count } : {}),
  },
});

export const secretFailedEvent = (
  runId: string,
  t: SyncTarget,
  failure: { error: string; message: string; names?: SecretNames },
): AuditEvent => ({
  detailType: SECRET_DETAIL_TYPES.failed,
  detail: {
    ...subject(runId, t, 'failed', failure.names?.secretName ?? serviceKey(t)),
    ...namesIfAny(failure.names),
    error: failure.error,
    message: failure.message,
  },
});
