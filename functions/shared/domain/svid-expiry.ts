/**
 * An SVID this close to its notAfter, or past it, is near expiry: rotation (every 12 h, renewing at 12 h left)
 * has failed for it at least once. The alarm fires on it, `status` marks it and `verify` warns.
 */
export const NEAR_EXPIRY_MS = 6 * 3_600_000;
