import type { Dependencies } from '../shared/dependencies';
import { type CaughtError, causeMessage } from '../shared/domain/caught-error';
import type { AuditEvent } from '../shared/domain/audit';
import {
  svidDeletedEvent,
  svidFailedEvent,
  svidIssuedEvent,
  svidSkippedEvent,
} from '../shared/domain/audit-events';
import type { ChunkSummary, SvidOutcome } from '../shared/domain/rotation';
import { svidSubject } from '../shared/domain/svid-subject';
import { stepHandler } from '../shared/step-handler';

export interface ReportOutcomesInput {
  runId: string;
  accounts: string[];
  outcomes: SvidOutcome[];
  /** Set when the chunk could not be loaded: then every account of the chunk failed. */
  chunkError: CaughtError | null;
}

/** Publishes one audit event per outcome (batched by the sink) and sums the chunk up. */
export const reportOutcomes =
  ({ config, audit }: Pick<Dependencies, 'config' | 'audit'>) =>
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

    const count = (status: SvidOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    return {
      issued: count('issued'),
      skipped: count('skipped'),
      deleted: count('deleted'),
      failed: count('failed') + (chunkError ? accounts.length : 0),
      failedAccounts: [...failedAccounts].sort(),
    };
  };

const outcomeEvent = (config: Dependencies['config'], runId: string, o: SvidOutcome): AuditEvent => {
  if (o.status === 'failed') {
    const subject = { ...o.item, ...svidSubject(config, o.item) };
    return svidFailedEvent(runId, subject, o.error.Error, causeMessage(o.error));
  }
  if (o.status === 'deleted') return svidDeletedEvent(runId, o, o.reason, o.deletionDate);
  if (o.status === 'issued') return svidIssuedEvent(runId, o, o.serial, o.notAfter);
  return svidSkippedEvent(runId, o, o.serial, o.notAfter);
};

export const createHandler = (deps: Dependencies) => stepHandler(reportOutcomes(deps), deps.logger);
