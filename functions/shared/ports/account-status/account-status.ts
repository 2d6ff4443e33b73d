import type { Logger } from '@aws-lambda-powertools/logger';
import type { AccountStatusEntry } from '../../domain/account-status';

export interface AccountStatusListing {
  /** Only this account's records. */
  accountId?: string;
  /** Called after each page with the records read so far (the CLI's progress line). */
  onProgress?: (read: number) => void;
}

/**
 * Per-account status records, written by the report steps and read by `trust-bridge status`.
 *
 * On AWS: `./dynamodb-account-status.ts`. At home: `local-stack/stand-ins/file-account-status.ts`, a stand-in for
 * this port (a table used as a key-value store), pinned against DynamoDB by test/contract/dynamodb.test.ts.
 */
export interface AccountStatusLog {
  /**
   * Writes each entry over the record with the same account and item key (statusItemKey); of two entries with one
   * key, the later wins. Checks every entry first, so a bad one writes nothing (InvalidAccountStatus). Throws AccountStatusNotRecorded
   * when records are still unwritten after the adapter's retries.
   */
  record(entries: AccountStatusEntry[]): Promise<void>;
  list(options?: AccountStatusListing): Promise<AccountStatusEntry[]>;
}

/**
 * Records the entries, and only logs when that fails. The status is a view for operators: the audit events,
 * already published, are the record of the run, and the next run writes the status again. Failing the step
 * instead would fail a run whose work succeeded, and its Retry would publish every audit event twice.
 */
export const recordStatus = async (
  log: AccountStatusLog,
  logger: Pick<Logger, 'warn'>,
  entries: AccountStatusEntry[],
): Promise<void> => {
  if (entries.length === 0) return;
  try {
    await log.record(entries);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    logger.warn('account status not recorded', {
      errorName: e.name,
      errorMessage: e.message,
      entries: entries.length,
    });
  }
};
