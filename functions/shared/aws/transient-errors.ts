/**
 * Whether an AWS SDK error says "not now" rather than "no", for every adapter alike: throttling, a server-side
 * failure, or a call that timed out. A timed-out call may have been carried out, so only idempotent calls (by
 * token, by content, or by eventId for audit events) go through this. Quota errors (LimitExceededException) are
 * not here on purpose: a retry within minutes cannot clear a quota.
 */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'TimeoutError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceError',
  'InternalException',
]);

export function isTransientAwsError(error: unknown): boolean {
  const e = error as {
    name?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  } | null;
  return (
    TRANSIENT_ERROR_NAMES.has(e?.name ?? '') ||
    // A server-side failure whatever the service named it (the status says it; `$fault` is only its label).
    (e?.$metadata?.httpStatusCode ?? 0) >= 500 ||
    Boolean(e?.$retryable)
  );
}
