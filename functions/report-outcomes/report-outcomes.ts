import { settingsOf, SVID_NAMING } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { type AccountStatusEntry, boundedMessage } from '../shared/domain/account-status';
import { recordStatus } from '../shared/ports/account-status/account-status';
import { type CaughtError, causeMessage } from '../shared/domain/caught-error';
import type { AuditEvent } from '../shared/domain/audit';
import {
  svidDeletedEvent,
  svidFailedEvent,
  svidIssuedEvent,
  svidRepairedEvent,
  svidSkippedEvent,
} from '../shared/domain/audit-events';
import type { ChunkSummary, SvidOutcome } from '../shared/domain/rotation';
import { svidSubject } from '../shared/domain/svid-subject';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('AWS_REGION', 'AUDIT_BUS_NAME', 'ACCOUNT_STATUS_TABLE', ...SVID_NAMING);
export type ReportOutcomesDependencies = StepDependencies<typeof settings, 'audit' | 'accountStatus' | 'now'>;

export interface ReportOutcomesInput {
  runId: string;
  accounts: string[];
  outcomes: SvidOutcome[];
  /** Set when the chunk could not be loaded: then every account of the chunk failed. */
  chunkError: CaughtError | null;
}

/**
 * Publishes one audit event per outcome (batched by the sink), records each account's status (issuances and
 * failures; see recordStatus for why a failed status write does not fail the step) and sums the chunk up.
 */
export const reportOutcomes =
  ({ config, audit, accountStatus, logger, now }: ReportOutcomesDependencies) =>
  async ({ runId, accounts, outcomes, chunkError }: ReportOutcomesInput): Promise<ChunkSummary> => {
    const events = outcomes.map((o) => outcomeEvent(config, runId, o));
    const failedAccounts = new Set(
      outcomes.flatMap((o) => (o.status === 'failed' ? [o.item.accountId] : [])),
    );
    if (chunkError) {
      for (const accountId of accounts) {
        failedAccounts.add(accountId);
        events.push(svidFailedEvent(runId, { accountId }, chunkError.Error, causeMessage(chunkError)));
      }
    }
    await audit.publish(events);
    await recordStatus(
      accountStatus,
      logger,
      statusEntries(runId, now().toISOString(), accounts, outcomes, chunkError),
    );

    const count = (status: SvidOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    return {
      issued: count('issued'),
      // A repair issues nothing: it counts with the skipped, and its own audit event tells it apart.
      skipped: count('skipped') + count('repaired'),
      deleted: count('deleted'),
      failed: count('failed') + (chunkError ? accounts.length : 0),
      failedAccounts: [...failedAccounts].sort(),
    };
  };

const outcomeEvent = (
  config: ReportOutcomesDependencies['config'],
  runId: string,
  o: SvidOutcome,
): AuditEvent => {
  if (o.status === 'failed') {
    const subject = { ...o.item, ...svidSubject(config, o.item) };
    return svidFailedEvent(runId, subject, o.error.Error, causeMessage(o.error));
  }
  if (o.status === 'deleted') return svidDeletedEvent(runId, o, o.reason, o.deletionDate);
  if (o.status === 'issued') return svidIssuedEvent(runId, o, o.serial, o.notAfter);
  if (o.status === 'repaired') return svidRepairedEvent(runId, o, o.serial, o.notAfter, o.repaired);
  return svidSkippedEvent(runId, o, o.serial, o.notAfter);
};

/** The status a rotation chunk leaves: each issuance, each failed item, every account of a chunk that failed. */
const statusEntries = (
  runId: string,
  at: string,
  accounts: string[],
  outcomes: SvidOutcome[],
  chunkError: CaughtError | null,
): AccountStatusEntry[] => {
  const failure = (e: CaughtError) => ({
    kind: 'failure' as const,
    run: 'rotation' as const,
    runId,
    at,
    error: e.Error,
    message: boundedMessage(causeMessage(e)),
  });
  const entries = outcomes.flatMap((o): AccountStatusEntry[] => {
    if (o.status === 'issued') {
      const { accountId, service, environment, serial, notAfter } = o;
      return [{ kind: 'rotation', accountId, service, environment, at, runId, serial, notAfter }];
    }
    if (o.status !== 'failed') return [];
    const { accountId, service, environment } = o.item;
    return [{ ...failure(o.error), accountId, service, environment }];
  });
  if (chunkError) entries.push(...accounts.map((accountId) => ({ ...failure(chunkError), accountId })));
  return entries;
};

export const createHandler = (deps: ReportOutcomesDependencies) =>
  stepHandler(reportOutcomes(deps), deps.logger);
