import { createHash } from 'node:crypto';
import {
  type AuditEvent,
  type SecretOutcomeStatus,
  SVID_DETAIL_TYPES,
  type SvidOutcomeStatus,
  type SvidRetirementRefusedDetail,
} from './audit';

/** Same run, subject and outcome → same id, so consumers can drop the duplicates a retried step may send. */
export const auditEventId = (
  runId: string,
  subject: string,
  status: SvidOutcomeStatus | `secret-${SecretOutcomeStatus}`,
): string => createHash('sha256').update(`${runId}\n${subject}\n${status}`).digest('hex').slice(0, 32);

type Subject = {
  accountId: string;
  service: string;
  environment: string;
  spiffeId: string;
  secretName: string;
};

export const svidIssuedEvent = (runId: string, s: Subject, serial: string, notAfter: string): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.issued,
  detail: { eventId: auditEventId(runId, s.secretName, 'issued'), runId, ...pick(s), serial, notAfter },
});

export const svidSkippedEvent = (
  runId: string,
  s: Subject,
  serial: string,
  notAfter: string,
): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.skipped,
  detail: {
    eventId: auditEventId(runId, s.secretName, 'skipped'),
    runId,
    ...pick(s),
    serial,
    notAfter,
    reason: 'within-renewal-window',
  },
});

export const svidRepairedEvent = (
  runId: string,
  s: Subject,
  serial: string,
  notAfter: string,
  repaired: ('policy' | 'tags')[],
): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.repaired,
  detail: {
    eventId: auditEventId(runId, s.secretName, 'repaired'),
    runId,
    ...pick(s),
    serial,
    notAfter,
    repaired: [...repaired],
  },
});

export const svidFailedEvent = (
  runId: string,
  s: Subject | Pick<Subject, 'accountId'>,
  error: string,
  message: string,
): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.failed,
  detail: {
    eventId: auditEventId(runId, 'secretName' in s ? s.secretName : s.accountId, 'failed'),
    runId,
    ...('secretName' in s ? pick(s) : { accountId: s.accountId }),
    error,
    message,
  },
});

export const svidDeletedEvent = (
  runId: string,
  s: Subject,
  reason: 'identity-disabled' | 'enrollment-removed',
  deletionDate: string,
): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.deleted,
  detail: { eventId: auditEventId(runId, s.secretName, 'deleted'), runId, ...pick(s), reason, deletionDate },
});

export const svidRetirementRefusedEvent = (
  runId: string,
  refusal: Omit<SvidRetirementRefusedDetail, 'eventId' | 'runId'>,
): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.retirementRefused,
  detail: { eventId: auditEventId(runId, 'retirements', 'retirementRefused'), runId, ...refusal },
});

// Copies only the subject's fields, so no stray property of a wider object reaches an event.
const pick = ({ accountId, service, environment, spiffeId, secretName }: Subject): Subject => ({
  accountId,
  service,
  environment,
  spiffeId,
  secretName,
});
