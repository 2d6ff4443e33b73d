/**
 * Every error a step throws has a stable `name`: Lambda reports it as the error type and the
 * state machines' Retry and Catch match on it. Retryable names are listed in RETRYABLE_ERRORS.
 */
export class TrustBridgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The enrollment file or endpoint does not hold a valid registry. Nothing is issued. */
export class InvalidEnrollment extends TrustBridgeError {}

/** The enrollment endpoint did not answer (timeout, network, 5xx). Retryable: the registry is fine. */
export class EnrollmentsUnavailable extends TrustBridgeError {}

/**
 * A SPIFFE ID breaks the SPIFFE rules or ACM PCA's 253-character URI limit. The SPIFFE library's own error
 * (client/spiffe/), named like the rest for Retry and Catch.
 */
export { InvalidSpiffeId } from '../../../client/spiffe/spiffe-id';

/** Configuration is missing or malformed. */
export class InvalidConfiguration extends TrustBridgeError {}

/** A secret with our name exists but lacks the ownership marker: it is never overwritten. */
export class SecretNotOwned extends TrustBridgeError {}

/** The certificate authority throttled us (ACM PCA ThrottlingException). Retryable. */
export class CaThrottled extends TrustBridgeError {}

/** The certificate is not issued yet (ACM PCA RequestInProgressException past our wait). Retryable. */
export class CertificateNotYetIssued extends TrustBridgeError {}

/** The certificate authority refused or failed the request for good. */
export class CertificateRequestFailed extends TrustBridgeError {}

/** Secrets Manager throttled us or was briefly unavailable. Retryable. */
export class StoreThrottled extends TrustBridgeError {}

/**
 * A write that started from the plan's listing was throttled after it may have landed. Not retried as it stands: the
 * state machine drops the listing ('Forget Listing') and runs the step again, which then describes the secret and
 * finishes what landed, instead of issuing a second certificate.
 */
export class ListedWriteInterrupted extends TrustBridgeError {}

/** EventBridge kept rejecting audit entries after our own retries. Retryable at the step. */
export class AuditDeliveryFailed extends TrustBridgeError {}

/**
 * Keywhiz did not answer within our retries (timeouts, transport errors, 5xx, throttling with 429), or asked us to
 * wait longer than a call may. Retryable at the step (it fails before any write); nothing changed.
 */
export class KeywhizUnavailable extends TrustBridgeError {}

/** Keywhiz answered 403: the secret is not assigned to the caller's client (its SPIFFE ID). */
export class SecretAccessDenied extends TrustBridgeError {}

/** Keywhiz answered with a body that is not one of its documented shapes. */
export class InvalidKeywhizResponse extends TrustBridgeError {}

/**
 * Another write of the same secret made its own version current after this agent read the store: this write
 * stops before it makes its version current, so older content never lands last (two executions for one secret may
 * overlap on AWS). Retryable at the step: the retry reads Keywhiz's newest content and the store again.
 */
export class SecretWriteRaced extends TrustBridgeError {}

/** A secret's content is over Secrets Manager's 65,536-byte limit: that secret is not synced. */
export class SecretTooLarge extends TrustBridgeError {}

/** A Keywhiz name that maps to no valid Secrets Manager name, or to one another name also maps to. */
export class SecretNameNotMappable extends TrustBridgeError {}

/** The service has no readable SVID yet (not issued, or scheduled for deletion). */
export class SvidUnavailable extends TrustBridgeError {}

/** Names a state machine Retry should match with backoff and jitter. */
export const RETRYABLE_ERRORS = [
  CaThrottled.name,
  CertificateNotYetIssued.name,
  StoreThrottled.name,
  AuditDeliveryFailed.name,
  EnrollmentsUnavailable.name,
  KeywhizUnavailable.name,
  SecretWriteRaced.name,
] as const;

/** A manual or replayed run asked for something invalid (unknown account, malformed input). Nothing runs. */
export class InvalidRunRequest extends TrustBridgeError {}

/**
 * The plan would retire SVIDs as only a broken registry would: any from an empty one, or more than
 * MAX_RETIREMENT_SHARE of those stored. Nothing runs; not retried, since the same registry gives the same plan.
 */
export class MassRetirementRefused extends TrustBridgeError {}
