/** Audit events for tests of the audit sink and the bus: one SVID's renewal skipped, numbered so each is distinct. */
import { type AuditEvent, SVID_DETAIL_TYPES } from '../../functions/shared/domain/audit';

export const skippedSvidEvent = (n: number, notAfter = '2030-03-02T00:00:00.000Z'): AuditEvent => ({
  detailType: SVID_DETAIL_TYPES.skipped,
  detail: {
    eventId: `run-7/prod/svc-${n}/skipped`,
    runId: 'run-7',
    accountId: String(200000000000 + n),
    service: `svc-${n}`,
    environment: 'prod',
    spiffeId: `spiffe://example.org/prod/svc-${n}`,
    secretName: `trust-bridge/svid/prod/svc-${n}`,
    serial: '0a1b',
    notAfter,
    reason: 'within-renewal-window',
  },
});
