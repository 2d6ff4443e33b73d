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
