import { describe, expect, it } from '@jest/globals';
import { reportOutcomes } from '../../../functions/report-outcomes/report-outcomes';
import { AT, P, L, fakes, lambdaCause } from '../../support/report-ports';

describe('Report Outcomes records each account’s rotation status', () => {
  const issued = {
    status: 'issued' as const,
    accountId: P,
    service: 'payments',
    environment: 'prod',
    spiffeId: 'spiffe://example.org/prod/payments',
    secretName: 'trust-bridge/svid/prod/payments',
    serial: 'ab12',
    notAfter: '2025-03-02T12:00:00.000Z',
  };
  const failed = {
    status: 'failed' as const,
    item: {
      action: 'issue' as const,
      accountId: L,
      service: 'ledger',
      environment: 'prod',
      readerRoles: [],
      notBefore: '2026-12-07T00:00:00Z',
    },
    error: { Error: 'CaThrottled', Cause: lambdaCause('ACM PCA throttled the request') },
  };

  it('an issuance and a failure, and nothing for a skipped SVID', async () => {
    const f = fakes();
    await reportOutcomes(f.deps)({
      runId: 'rot-1',
      accounts: [P, L, '012345678901'],
      outcomes: [
        issued,
        failed,
        { ...issued, status: 'skipped', accountId: '012345678901', service: 'search' },
      ],
      chunkError: null,
    });
    const at = AT.toISOString();
    expect(f.recorded).toEqual([
      {
        kind: 'rotation',
        accountId: P,
        service: 'payments',
        environment: 'prod',
        at,
        runId: 'rot-1',
        serial: 'ab12',
        notAfter: issued.notAfter,
      },
      {
        kind: 'failure',
        run: 'rotation',
        accountId: L,
        service: 'ledger',
        environment: 'prod',
        at,
        runId: 'rot-1',
        error: 'CaThrottled',
        message: 'ACM PCA throttled the request',
      },
    ]);
  });

  it('a chunk that could not load fails each of its accounts as a whole', async () => {
    const f = fakes();
    await reportOutcomes(f.deps)({
      runId: 'rot-2',
      accounts: [P, L],
      outcomes: [],
      chunkError: { Error: 'EnrollmentsUnavailable', Cause: 'x'.repeat(1000) },
    });
    expect(f.recorded.map((e) => [e.kind, e.accountId, e.service])).toEqual([
      ['failure', P, undefined],
      ['failure', L, undefined],
    ]);
    // Bounded like a step error: a table cell, not a dump.
    expect((f.recorded[0] as { message: string }).message).toHaveLength(301);
  });

  it('a status write that fails is logged and the step still publishes and sums up', async () => {
    const f = fakes(true);
    const summary = await reportOutcomes(f.deps)({
      runId: 'rot-3',
      accounts: [P, L],
      outcomes: [issued, failed],
      chunkError: null,
    });
    expect(summary).toMatchObject({ issued: 1, failed: 1, failedAccounts: [L] });
    expect(f.published).toHaveLength(2);
    expect(f.warn).toHaveBeenCalledWith('account status not recorded', {
      errorName: 'AccountStatusNotRecorded',
      errorMessage: 'table busy',
      entries: 2,
    });
  });
});
