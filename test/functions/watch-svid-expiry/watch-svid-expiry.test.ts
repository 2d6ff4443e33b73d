import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import type { SvidStore } from '../../../functions/shared/ports/svid-store/svid-store';
import type { StoredSvid } from '../../../functions/shared/domain/svid-secret';
import {
  createHandler,
  SVID_EXPIRY_METRICS,
  type SvidExpiryReport,
  watchSvidExpiry,
} from '../../../functions/watch-svid-expiry/watch-svid-expiry';

const NOW = new Date('2025-03-01T12:00:00Z');
const HOUR = 3_600_000;

const svid = (service: string, hoursLeft: number, extra: Partial<StoredSvid> = {}): StoredSvid => ({
  secretName: `trust-bridge/svid/prod/${service}`,
  arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:trust-bridge/svid/prod/${service}-AbCdEf`,
  spiffeId: `spiffe://example.org/prod/${service}`,
  serial: `0${service.length}`,
  notAfter: new Date(NOW.getTime() + hoursLeft * HOUR).toISOString(),
  service,
  environment: 'prod',
  accountId: '111122223333',
  readersDigest: '',
  committed: true,
  ...extra,
});

/** Lists from tags only: any other call fails the test. */
const storeOf = (stored: StoredSvid[]): SvidStore =>
  ({
    listOwned: async () => stored,
  }) as unknown as SvidStore;

const quietLogger = () => {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const warn = jest.spyOn(logger, 'warn');
  return { logger, warn };
};

const newMetrics = (logger?: Logger) =>
  new Metrics({
    namespace: SVID_EXPIRY_METRICS.namespace,
    serviceName: SVID_EXPIRY_METRICS.serviceName,
    logger,
  });

type Emf = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
};

async function watch(stored: StoredSvid[]) {
  const { logger, warn } = quietLogger();
  const metrics = newMetrics();
  const report = await watchSvidExpiry({ svids: storeOf(stored), logger, now: () => NOW }, metrics)();
  const emf = metrics.serializeMetrics() as unknown as Emf;
  return { report, emf, warn };
}

describe('watchSvidExpiry', () => {
  it('counts the SVIDs within 6 h of expiry, the boundary included, and those already expired', async () => {
    const { report, emf } = await watch([
      svid('fresh', 30),
      svid('just-outside', 6 + 1 / 3600),
      svid('boundary', 6),
      svid('soon', 0.5),
      svid('expired', -2),
    ]);
    expect(report).toEqual({ watched: 5, nearExpiry: 3, expired: 1, minHoursToExpiry: -2 });
    expect(emf.SvidsNearExpiry).toBe(3);
    expect(emf.SvidsWatched).toBe(5);
    expect(emf.MinHoursToExpiry).toBe(-2);
  });

  it('ignores SVIDs scheduled for deletion, expired or not', async () => {
    const { report, emf } = await watch([
      svid('retired', -48, { deletedAt: '2025-02-27T00:00:00Z' }),
      svid('retiring', 1, { deletedAt: '2025-03-01T11:00:00Z' }),
      svid('fresh', 11.5),
    ]);
    expect(report).toEqual({ watched: 1, nearExpiry: 0, expired: 0, minHoursToExpiry: 11.5 });
    expect(emf.SvidsNearExpiry).toBe(0);
  });

  it('publishes zero, not nothing, when there is no SVID: only a failed run leaves the alarm without data', async () => {
    const { report, emf } = await watch([]);
    expect(report).toEqual({ watched: 0, nearExpiry: 0, expired: 0, minHoursToExpiry: null });
    expect(emf.SvidsNearExpiry).toBe(0);
    expect(emf.SvidsWatched).toBe(0);
    expect(emf).not.toHaveProperty('MinHoursToExpiry');
  });

  it('writes the metrics in the namespace and with the dimension the alarm names', async () => {
    const { emf } = await watch([svid('soon', 1)]);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe('TrustBridge');
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(emf.service).toBe('watch-svid-expiry');
    expect(directive?.Metrics.map((m) => m.Name).sort()).toEqual([
      'MinHoursToExpiry',
      'SvidsNearExpiry',
      'SvidsWatched',
    ]);
  });

  it('names each SVID near expiry (secret, account, serial) in a warning, with no secret value', async () => {
    const { warn } = await watch([svid('fresh', 30), svid('soon', 2), svid('expired', -1)]);
    expect(warn.mock.calls.map(([message, fields]) => [message, fields])).toEqual([
      [
        'SVID near expiry',
        expect.objectContaining({
          secretName: 'trust-bridge/svid/prod/soon',
          accountId: '111122223333',
          hoursToExpiry: 2,
        }),
      ],
      [
        'SVID expired',
        expect.objectContaining({ secretName: 'trust-bridge/svid/prod/expired', hoursToExpiry: -1 }),
      ],
    ]);
    for (const [, fields] of warn.mock.calls) {
      expect(Object.keys(fields as object).sort()).toEqual(
        ['accountId', 'hoursToExpiry', 'notAfter', 'secretName', 'serial', 'spiffeId'].sort(),
      );
    }
  });
});

describe('the watchSvidExpiry handler', () => {
  const context = { functionName: 'watch', awsRequestId: 'r-1' } as Context;

  /** The EMF documents the handler printed (Powertools writes them to stdout). */
  async function invoke(svids: SvidStore) {
    const { logger } = quietLogger();
    const printed: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      const handler = createHandler({ svids, logger, now: () => NOW }, newMetrics(logger));
      const outcome: { report?: SvidExpiryReport; error?: Error } = await handler(undefined, context).then(
        (report) => ({ report }),
        (error: Error) => ({ error }),
      );
      const emf = printed
        .flatMap((text) => text.split('\n'))
        .filter((line) => line.includes('"_aws"'))
        .map((line) => JSON.parse(line) as Emf);
      return { ...outcome, emf };
    } finally {
      write.mockRestore();
    }
  }

  it('publishes one EMF document per run and returns the counts', async () => {
    const { report, emf } = await invoke(storeOf([svid('soon', 3), svid('fresh', 20)]));
    expect(report).toEqual({ watched: 2, nearExpiry: 1, expired: 0, minHoursToExpiry: 3 });
    expect(emf).toHaveLength(1);
    expect(emf[0]).toEqual(expect.objectContaining({ SvidsNearExpiry: 1, SvidsWatched: 2 }));
  });

  it('publishes nothing when it cannot list the SVIDs, so the alarm sees missing data', async () => {
    const failing = {
      listOwned: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'StoreThrottled' });
      },
    } as unknown as SvidStore;
    const { error, emf } = await invoke(failing);
    expect(error?.name).toBe('StoreThrottled');
    expect(emf).toEqual([]);
  });
});
