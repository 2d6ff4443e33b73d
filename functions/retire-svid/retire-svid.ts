import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import type { Retirement, SvidOutcome } from '../shared/domain/rotation';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('AWS_REGION', 'SVID_RECOVERY_WINDOW_DAYS');
export type RetireSvidDependencies = StepDependencies<typeof settings, 'svids' | 'now'>;

export interface RetireSvidInput {
  runId: string;
  item: Retirement;
}

/** Schedules an SVID secret for deletion with the configured recovery window; a gone secret counts as deleted. */
export const retireSvid =
  ({ config, svids, now }: RetireSvidDependencies) =>
  async ({ item }: RetireSvidInput): Promise<SvidOutcome> => {
    const retired = await svids.retire(item.secretName, config.SVID_RECOVERY_WINDOW_DAYS);
    return {
      status: 'deleted',
      accountId: item.accountId,
      service: item.service,
      environment: item.environment,
      spiffeId: item.spiffeId,
      secretName: item.secretName,
      reason: item.reason,
      deletionDate: retired?.deletionDate ?? now().toISOString(),
    };
  };

export const createHandler = (deps: RetireSvidDependencies) => stepHandler(retireSvid(deps), deps.logger);
