import { describe, expect, it } from '@jest/globals';
import { reportSyncOutcomes } from '../../../functions/report-sync-outcomes/report-sync-outcomes';
import { AT, P, L, fakes, lambdaCause } from '../../support/report-ports';

describe('Report Sync Outcomes records each account’s sync status', () => {
  const done = (accountId: string, service: string, counts: Partial<Record<string, number>> = {}) => ({
    status: 'done' as const,
    accountId,
    service,
    environment: 'prod',
    synced: 1,
    unchanged: 2,
    deleted: 1,
    restored: 1,
    refused: 1,
    failed: 0,
    ...counts,
  });
  const at = AT.toISOString();

  it('a full reconcile records the sync and the secrets the account holds (synced + unchanged + restored)', async () => {
    const f = fakes();
    await reportSyncOutcomes(f.deps)({
      runId: 'sync-1',
      accounts: [P, L],
      outcomes: [
        done(P, 'payments'),
        done(L, 'ledger', { failed: 2 }),
        {
          status: 'failed',
          target: { accountId: L, service: 'billing', environment: 'prod' },
          error: { Error: 'KeywhizUnavailable', Cause: lambdaCause('Keywhiz did not answer') },
        },
      ],
      chunkError: null,
      secret: null,
    });
    const target = (accountId: string, service: string) => ({ accountId, service, environment: 'prod' });
    expect(f.recorded).toEqual([
      { kind: 'sync', ...target(P, 'payments'), runId: 'sync-1', at },
      { kind: 'reconcile', ...target(P, 'payments'), runId: 'sync-1', at, secretCount: 4 },
      { kind: 'sync', ...target(L, 'ledger'), runId: 'sync-1', at },
      { kind: 'reconcile', ...target(L, 'ledger'), runId: 'sync-1', at, secretCount: 4 },
      {
        kind: 'failure',
        run: 'sync',
        ...target(L, 'ledger'),
        runId: 'sync-1',
        at,
        error: 'SecretSyncFailed',
        message: '2 secret(s) not synced in run sync-1; its Secret Sync Failed events say why',
      },
      {
        kind: 'failure',
        run: 'sync',
        ...target(L, 'billing'),
        runId: 'sync-1',
        at,
        error: 'KeywhizUnavailable',
        message: 'Keywhiz did not answer',
      },
    ]);
  });

  it('a one-secret sync records the sync but leaves the account’s secret count alone', async () => {
    const f = fakes();
    await reportSyncOutcomes(f.deps)({
      runId: 'sync-2',
      accounts: [P],
      outcomes: [done(P, 'payments', { synced: 1, unchanged: 0, deleted: 0, restored: 0, refused: 0 })],
      chunkError: null,
      secret: 'db-password',
    });
    expect(f.recorded.map((e) => e.kind)).toEqual(['sync']);
  });

  it('a chunk that could not load fails each account; a failed status write fails nothing', async () => {
    const f = fakes();
    await reportSyncOutcomes(f.deps)({
      runId: 'sync-3',
      accounts: [P, L],
      outcomes: [],
      chunkError: { Error: 'EnrollmentsUnavailable', Cause: 'registry down' },
      secret: null,
    });
    expect(f.recorded).toEqual(
      [P, L].map((accountId) =>
        expect.objectContaining({
          kind: 'failure',
          accountId,
          error: 'EnrollmentsUnavailable',
          message: 'registry down',
        }),
      ),
    );

    const failing = fakes(true);
    const summary = await reportSyncOutcomes(failing.deps)({
      runId: 'sync-4',
      accounts: [P, L],
      outcomes: [],
      chunkError: { Error: 'EnrollmentsUnavailable', Cause: 'registry down' },
      secret: null,
    });
    expect(summary.failedAccounts).toEqual([P, L]);
    expect(failing.published).toHaveLength(2);
    expect(failing.warn).toHaveBeenCalledTimes(1);
  });
});
