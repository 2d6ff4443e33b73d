/** The report steps' ports in memory (what they published and recorded), and the values their tests share. */
import { Logger } from '@aws-lambda-powertools/logger';
import { jest } from '@jest/globals';
import { localConfig } from '../../local-stack/local-config';
import type { AuditEvent } from '../../functions/shared/domain/audit';
import type { AccountStatusEntry } from '../../functions/shared/domain/account-status';
import type { AccountStatusLog } from '../../functions/shared/ports/account-status/account-status';

export const AT = new Date('2025-03-01T12:00:00.000Z');
export const P = '111122223333';
export const L = '777788889999';

/** The ports a report step is given, in memory; `statusFails`: the status table refuses every write. */
export const fakes = (statusFails = false) => {
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

/** A Lambda failure's cause, as the Catch hands it to the report. */
export const lambdaCause = (message: string) => JSON.stringify({ errorType: 'X', errorMessage: message });
