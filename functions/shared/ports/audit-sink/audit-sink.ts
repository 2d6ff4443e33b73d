import type { AuditEvent } from '../../domain/audit';

/**
 * Where audit events go.
 *
 * On AWS: `./eventbridge-audit-sink.ts`. At home: the same adapter over the EventBridge client's stand-in,
 * `local-stack/stand-ins/local-event-bus.ts` (an in-process bus with an audit log).
 */
export interface AuditSink {
  /**
   * Publishes every event: at most 10 entries per PutEvents, failed entries retried.
   * Throws AuditDeliveryFailed when entries still fail after the retries.
   */
  publish(events: AuditEvent[]): Promise<void>;
}
