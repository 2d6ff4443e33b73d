/*
 * Why our own port and not Powertools' idempotency utility (@aws-lambda-powertools/idempotency, DynamoDB
 * persistence), looked at and kept out:
 * - it answers a duplicate with the first call's stored result, where the receiver answers with its own body
 *   (`status: "duplicate"`): a responseHook to rewrite it, and a duplicate arriving while the first is in flight
 *   is an IdempotencyAlreadyInProgressError to map too. A claim answers both with one `false`.
 * - the claim sits mid-request (after the signature, before the announcement) and a failing table is a 503 the
 *   sender retries; wrapping that step in makeIdempotent and mapping its errors is more code than this port.
 * - its records (hashed `<function>#<md5>` keys, status, expiration, in-flight expiry, stored data) would replace
 *   the table's `deliveryId` items: an operator could no longer look a delivery up by its id.
 * - the local stack would need a Powertools persistence layer (get/put/update/delete of its record model) instead
 *   of the two-method file stand-in that the contract suite pins against DynamoDB.
 * - it adds its package, a JMESPath engine and a second copy of Powertools commons (2.35.0 pins its own; logger and
 *   metrics are on 2.36.0) to the receiver's bundle, the one function a sender waits on.
 * Node 20 and TTL (expiresAfterSeconds) would not have stood in the way. Release on failure is what it does too.
 */

/**
 * The webhook deliveries already accepted, so that a delivery the sender repeats (its retry, or a replay
 * inside the timestamp window) starts nothing new.
 */
export interface DeliveryLog {
  /** Records the delivery id; true the first time it is claimed, false when it was claimed before. */
  claim(deliveryId: string): Promise<boolean>;
  /** Undoes a claim when announcing the change failed, so the sender's retry goes through. */
  release(deliveryId: string): Promise<void>;
}
