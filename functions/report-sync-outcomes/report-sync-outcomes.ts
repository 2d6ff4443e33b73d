import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { type AccountStatusEntry, boundedMessage } from '../shared/domain/account-status';
import { recordStatus } from '../shared/ports/account-status/account-status';
import { type CaughtError, causeMessage } from '../shared/domain/caught-error';
import { type AgentOutcome, SYNC_COUNT_FIELDS, type SyncChunkSummary } from '../shared/domain/sync';
import { chunkFailedEvent, secretFailedEvent } from '../shared/domain/sync-audit-events';
import { sumCounts } from '../shared/domain/run-summary';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('AWS_REGION', 'AUDIT_BUS_NAME', 'ACCOUNT_STATUS_TABLE');
export type ReportSyncOutcomesDependencies = StepDependencies<
  typeof settings,
  'audit' | 'accountStatus' | 'now'
>;

export interface ReportSyncOutcomesInput {
  runId: string;
  accounts: string[];
  outcomes: AgentOutcome[];
  /** Set when the chunk's targets could not be loaded: then every account of the chunk failed. */
  chunkError: CaughtError | null;
  /** The one secret a targeted sync covered (its count is not the account's total), null for a full reconcile. */
  secret: string | null;
}

/**
 * Sums a chunk up. Agents that finished audited their own secrets; an agent the state machine caught failing as a
 * whole, or every account of a chunk whose targets could not be loaded, gets its failure event here. An account
 * is failed (and replayable) when its agent failed or any of its secrets did. Each account's status records what
 * its agent did (see recordStatus for why a failed status write does not fail the step).
 */
export const reportSyncOutcomes =
  ({ audit, accountStatus, logger, now }: Omit<ReportSyncOutcomesDependencies, 'config'>) =>
  async (input: ReportSyncOutcomesInput): Promise<SyncChunkSummary> => {
    const { runId, accounts, outcomes, chunkError } = input;
    const done = outcomes.flatMap((o) => (o.status === 'done' ? [o] : []));
    const crashed = outcomes.flatMap((o) => (o.status === 'failed' ? [o] : []));
    const failure = (e: CaughtError) => ({ error: e.Error, message: causeMessage(e) });
    await audit.publish([
      ...crashed.map((o) => secretFailedEvent(runId, o.target, failure(o.error))),
      ...(chunkError ? accounts.map((a) => chunkFailedEvent(runId, a, failure(chunkError))) : []),
    ]);
    await recordStatus(accountStatus, logger, statusEntries(input, now().toISOString()));
    const failedAccounts = new Set([
      ...crashed.map((o) => o.target.accountId),
      ...done.filter((o) => o.failed > 0).map((o) => o.accountId),
      ...(chunkError ? accounts : []),
    ]);
    return {
      ...sumCounts(done, SYNC_COUNT_FIELDS),
      failedSecrets: done.reduce((total, o) => total + o.failed, 0),
      failed: failedAccounts.size,
      failedAccounts: [...failedAccounts].sort(),
    };
  };

/**
 * The status a sync chunk leaves: each agent that finished (and, after a full reconcile, the secrets its account
 * now holds), each failed agent or secret, every account of a chunk that failed.
 */
const statusEntries = (
  { runId, accounts, outcomes, chunkError, secret }: ReportSyncOutcomesInput,
  at: string,
): AccountStatusEntry[] => {
  const failure = (error: string, message: string) =>
    ({ kind: 'failure', run: 'sync', runId, at, error, message: boundedMessage(message) }) as const;
  const entries = outcomes.flatMap((o): AccountStatusEntry[] => {
    if (o.status === 'failed') return [{ ...failure(o.error.Error, causeMessage(o.error)), ...o.target }];
    const target = { accountId: o.accountId, service: o.service, environment: o.environment };
    return [
      { kind: 'sync', ...target, runId, at },
      ...(typeof secret === 'string'
        ? []
        : [
            {
              kind: 'reconcile' as const,
              ...target,
              runId,
              at,
              secretCount: o.synced + o.unchanged + o.restored,
            },
          ]),
      ...(o.failed > 0
        ? [
            {
              ...failure(
                'SecretSyncFailed',
                `${o.failed} secret(s) not synced in run ${runId}; its Secret Sync Failed events say why`,
              ),
              ...target,
            },
          ]
        : []),
    ];
  });
  if (chunkError) {
    entries.push(
      ...accounts.map((accountId) => ({ ...failure(chunkError.Error, causeMessage(chunkError)), accountId })),
    );
  }
  return entries;
};

export const createHandler = (deps: Omit<ReportSyncOutcomesDependencies, 'config'>) =>
  stepHandler(reportSyncOutcomes(deps), deps.logger);
