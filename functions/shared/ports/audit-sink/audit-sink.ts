import type { AuditEvent } from '../../domain/audit';

/** EventBridge on AWS; an in-process bus with an audit log at home. */
export interface AuditSink {
  /**
   * Publishes every event: at most 10 entries per PutEvents, failed entries retried.
   * Throws AuditDeliveryFailed when entries still fail after the retries.
   */
  publish(events: AuditEvent[]): Promise<void>;
}
