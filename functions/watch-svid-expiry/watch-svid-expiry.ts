import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { settingsOf } from '../shared/config';
import type { Ports } from '../shared/dependencies';
import type { Logger } from '@aws-lambda-powertools/logger';
import { NEAR_EXPIRY_MS } from '../shared/domain/svid-expiry';
import { stepHandler } from '../shared/step-handler';

/** CloudWatch namespace and metric names; the stack's alarm names the same ones (infra/alarms.yml). */
export const SVID_EXPIRY_METRICS = {
  namespace: 'TrustBridge',
  serviceName: 'watch-svid-expiry',
  nearExpiry: 'SvidsNearExpiry',
  watched: 'SvidsWatched',
  minHoursToExpiry: 'MinHoursToExpiry',
} as const;

export const settings = settingsOf('AWS_REGION');
type WatchDependencies = Pick<Ports, 'svids' | 'now'> & { logger: Logger };

export interface SvidExpiryReport {
  /** Live SVIDs (those scheduled for deletion are not watched). */
  watched: number;
  /** Expired or expiring within 6 h. */
  nearExpiry: number;
  expired: number;
  /** Hours until the first live SVID expires (negative once expired); null when there is none. */
  minHoursToExpiry: number | null;
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 100) / 100;

/**
 * Counts the stored SVIDs that expire within 6 h or have expired, from their tags only (no secret value is
 * read), and records the counts as metrics. Publishing is the handler's: a run that fails publishes nothing,
 * which the alarm treats as breaching.
 */
export const watchSvidExpiry =
  ({ svids, logger, now }: WatchDependencies, metrics: Metrics) =>
  async (): Promise<SvidExpiryReport> => {
    const at = now().getTime();
    const live = (await svids.listOwned()).filter((svid) => svid.deletedAt === undefined);
    const left = live.map((svid) => ({ svid, ms: Date.parse(svid.notAfter) - at }));
    const near = left.filter(({ ms }) => ms <= NEAR_EXPIRY_MS);
    const report: SvidExpiryReport = {
      watched: live.length,
      nearExpiry: near.length,
      expired: near.filter(({ ms }) => ms <= 0).length,
      minHoursToExpiry: left.length === 0 ? null : hours(Math.min(...left.map(({ ms }) => ms))),
    };
    for (const { svid, ms } of near) {
      logger.warn(ms <= 0 ? 'SVID expired' : 'SVID near expiry', {
        secretName: svid.secretName,
        accountId: svid.accountId,
        spiffeId: svid.spiffeId,
        serial: svid.serial,
        notAfter: svid.notAfter,
        hoursToExpiry: hours(ms),
      });
    }
    metrics.addMetric(SVID_EXPIRY_METRICS.nearExpiry, MetricUnit.Count, report.nearExpiry);
    metrics.addMetric(SVID_EXPIRY_METRICS.watched, MetricUnit.Count, report.watched);
    if (report.minHoursToExpiry !== null) {
      metrics.addMetric(SVID_EXPIRY_METRICS.minHoursToExpiry, MetricUnit.NoUnit, report.minHoursToExpiry);
    }
    logger.info('SVID expiry watched', { ...report });
    return report;
  };

/** Publishes the metrics when the step returns; a failed step added none, so nothing is published. */
export const createHandler = (deps: WatchDependencies, metrics: Metrics) =>
  stepHandler(watchSvidExpiry(deps, metrics), deps.logger).use(logMetrics(metrics));
