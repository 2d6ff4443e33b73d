/** The audit trail on EventBridge. Schemas for each detail-type live in events/schemas/. */
export const AUDIT_SOURCE = 'trust-bridge.svid';
/** The source of the Keywhiz sync's audit events. */
export const SECRETS_AUDIT_SOURCE = 'trust-bridge.secrets';

export const SVID_DETAIL_TYPES = {
  issued: 'SVID Issued',
  skipped: 'SVID Renewal Skipped',
  repaired: 'SVID Repaired',
  failed: 'SVID Rotation Failed',
  deleted: 'SVID Deleted',
  retirementRefused: 'SVID Retirement Refused',
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

/** A fresh SVID whose resource policy or tags were not as its enrollment needs: rewritten, no new certificate. */
export interface SvidRepairedDetail extends SvidSubject {
  serial: string;
  notAfter: string;
  repaired: ('policy' | 'tags')[];
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

/** A plan refused as a whole because of what it would retire (see MassRetirementRefused). Counts only. */
export interface SvidRetirementRefusedDetail {
  /** Deterministic per run: a retried plan refuses again under the same id. */
  eventId: string;
  runId: string;
  /** empty-registry: the registry lists no enrollment; mass-retirement: more than maxShare of the stored SVIDs. */
  reason: 'empty-registry' | 'mass-retirement';
  /** SVIDs the plan would have retired. */
  count: number;
  /** SVIDs stored and not scheduled for deletion when the plan was made. */
  stored: number;
  maxShare: number;
  message: string;
}

export const SECRET_DETAIL_TYPES = {
  synced: 'Secret Synced',
  unchanged: 'Secrets Unchanged',
  deleted: 'Secret Deleted',
  restored: 'Secret Restored',
  refused: 'Secret Sync Refused',
  failed: 'Secret Sync Failed',
} as const;

export type SecretOutcomeStatus = keyof typeof SECRET_DETAIL_TYPES;

/** Whose secrets the event is about: one service's agent in one account. */
interface SyncSubject {
  /** Deterministic per (run, account, secret, outcome), as for SVID events. */
  eventId: string;
  runId: string;
  accountId: string;
  service: string;
  environment: string;
}

/** Names the secret in Keywhiz and in the account's Secrets Manager. */
interface SecretNames {
  keywhizName: string;
  secretName: string;
}

export interface SecretSyncedDetail extends SyncSubject, SecretNames {
  /** Keywhiz's checksum of the content written (a change token, not the content). */
  checksum: string;
  updateDate?: string;
  versionId: string;
  /** True when the secret was created by this write. */
  created: boolean;
}

/** One event per account and run, however many secrets were unchanged. */
export interface SecretsUnchangedDetail extends SyncSubject {
  count: number;
}

export interface SecretDeletedDetail extends SyncSubject, SecretNames {
  deletionDate: string;
}

export type SecretRestoredDetail = SyncSubject & SecretNames;

export interface SecretSyncRefusedDetail extends SyncSubject, Partial<SecretNames> {
  /** older-than-stored: Keywhiz content older than what the account holds; mass-deletion: the guard held. */
  reason: 'older-than-stored' | 'mass-deletion' | 'not-owned';
  message: string;
  /** For mass-deletion: how many deletions were refused. */
  count?: number;
}

/**
 * Names are absent when the whole agent failed (Keywhiz down, no SVID…); service and environment too when the
 * chunk failed before its targets were known.
 */
export interface SecretSyncFailedDetail
  extends
    Omit<SyncSubject, 'service' | 'environment'>,
    Partial<Pick<SyncSubject, 'service' | 'environment'>>,
    Partial<SecretNames> {
  error: string;
  message: string;
}

/** The source of what operators do to runs (replays, redrives). */
export const OPS_AUDIT_SOURCE = 'trust-bridge.ops';

export const OPS_DETAIL_TYPES = {
  replayed: 'Execution Replayed',
} as const;

/**
 * An operator re-ran a failed execution: `replay` started a new execution of its failed items (linked by the
 * new run's `replayOf` input), `redrive` ran it again under its own ARN. ARNs and counts only.
 */
export interface ExecutionReplayedDetail {
  /** Deterministic per (original, new execution, mode, redrive count): drop duplicates by it. */
  eventId: string;
  originalExecutionArn: string;
  executionArn: string;
  stateMachineName: string;
  mode: 'replay' | 'redrive';
  /** How many accounts a replay re-runs; absent for a redrive, which re-runs what failed, whatever it was. */
  itemCount?: number;
  /** For a redrive: how many times the execution has now been redriven. */
  redriveCount?: number;
}

export type AuditEvent =
  | { detailType: typeof SVID_DETAIL_TYPES.issued; detail: SvidIssuedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.skipped; detail: SvidSkippedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.repaired; detail: SvidRepairedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.failed; detail: SvidFailedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.deleted; detail: SvidDeletedDetail }
  | { detailType: typeof SVID_DETAIL_TYPES.retirementRefused; detail: SvidRetirementRefusedDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.synced; detail: SecretSyncedDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.unchanged; detail: SecretsUnchangedDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.deleted; detail: SecretDeletedDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.restored; detail: SecretRestoredDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.refused; detail: SecretSyncRefusedDetail }
  | { detailType: typeof SECRET_DETAIL_TYPES.failed; detail: SecretSyncFailedDetail }
  | { detailType: typeof OPS_DETAIL_TYPES.replayed; detail: ExecutionReplayedDetail };

const SECRET_TYPES: ReadonlySet<string> = new Set(Object.values(SECRET_DETAIL_TYPES));
const OPS_TYPES: ReadonlySet<string> = new Set(Object.values(OPS_DETAIL_TYPES));

/** Each detail-type has one source, which the rule patterns in events/patterns/ match. */
export const auditSourceOf = (detailType: AuditEvent['detailType']): string =>
  SECRET_TYPES.has(detailType)
    ? SECRETS_AUDIT_SOURCE
    : OPS_TYPES.has(detailType)
      ? OPS_AUDIT_SOURCE
      : AUDIT_SOURCE;
