import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, jest } from '@jest/globals';
import { reportOutcomes } from '../../functions/report-outcomes/report-outcomes';
import { reportSyncOutcomes } from '../../functions/report-sync-outcomes/report-sync-outcomes';
import { localConfig } from '../../local-stack/local-config';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import type { AccountStatusEntry } from '../../functions/shared/domain/account-status';
import type { AccountStatusLog } from '../../functions/shared/ports/account-status/account-status';

const AT = new Date('2025-03-01T12:00:00.000Z');
const P = '111122223333';
const L = '777788889999';

/** The report steps' ports in memory: what they published and recorded. */
const fakes = (statusFails = false) => {
  const published: AuditEvent[] = [];
  const recorded: AccountStatusEntry[] = [];
  const accountStatus: AccountStatusLog = {
    record: async (entries) => {
      if (statusFails) throw Object.assign(new Error('table busy'), { name: 'AccountStatusNotRecorded' });
      recorded.push(...entries);
    },
    list: async () => recorded,
  };
  const logger = new Logger({ logLevel: 'SILENT' });
  const warn = jest.spyOn(logger, 'warn');
  return {
    deps: {
      config: localConfig({}),
      audit: { publish: async (events: AuditEvent[]) => void published.push(...events) },
      accountStatus,
      logger,
      now: () => AT,
    },
    published,
    recorded,
    warn,
  };
};

const lambdaCause = (message: string) => JSON.stringify({ errorType: 'X', errorMessage: message });

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
    item: { action: 'issue' as const, accountId: L, service: 'ledger', environment: 'prod', readerRoles: [] },
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
