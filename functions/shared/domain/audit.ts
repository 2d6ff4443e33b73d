/** The audit trail on EventBridge. Schemas for each detail-type live in events/schemas/. */
export const AUDIT_SOURCE = 'trust-bridge.svid';

export const SVID_DETAIL_TYPES = {
  issued: 'SVID Issued',
  skipped: 'SVID Renewal Skipped',
  failed: 'SVID Rotation Failed',
  deleted: 'SVID Deleted',
} as const;

export type SvidOutcomeStatus = keyof typeof SVID_DETAIL_TYPES;

/** Who the event is about. Names and versions only: never key material or secret values. */
interface SvidSubject {
  /** Deterministic per (run, subject, outcome), so consumers can drop at-least-once duplicates. */
  eventId: string;
  runId: string;
  accountId: string;
  service: string;
  environment: string;
  spiffeId: string;
  secretName: string;
}

export interface SvidIssuedDetail extends SvidSubject {
  serial: string;
  notAfter: string;
}

export interface SvidSkippedDetail extends SvidSubject {
  serial: string;
  notAfter: string;
  reason: 'within-renewal-window';
}

/** Service, environment, SPIFFE ID and secret name are absent when a whole chunk failed before its items were known. */
export interface SvidFailedDetail
  extends
    Omit<SvidSubject, 'service' | 'environment' | 'spiffeId' | 'secretName'>,
    Partial<Pick<SvidSubject, 'service' | 'environment' | 'spiffeId' | 'secretName'>> {
  error: string;
  message: string;
}

export interface SvidDeletedDetail extends SvidSubject {
  reason: 'identity-disabled' | 'enrollment-removed';
  deletionDate: string;
}

export type AuditEvent =
  | { detailType: typeof SVID_DETAIL_TYPES.issued; detail: SvidIssuedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.skipped; detail: SvidSkippedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.failed; detail: SvidFailedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.deleted; detail: SvidDeletedDetail };
