import { describe, expect, it } from '@jest/globals';
import { loadChunk } from '../../../functions/load-chunk/load-chunk';
import type { Enrollment } from '../../../functions/shared/domain/enrollment';
import type { Issuance } from '../../../functions/shared/domain/rotation';
import { svidSubject } from '../../../functions/shared/domain/svid-subject';
import type { StoredSvid } from '../../../functions/shared/domain/svid-secret';
import { localConfig } from '../../../local-stack/local-config';

const enrollments: Enrollment[] = Array.from({ length: 12 }, (_, i) => ({
  service: `service-${i}`,
  environment: 'prod',
  accountId: String(100_000_000_000 + i),
  identity: true,
  secrets: false,
  readerRoles: [],
}));
const load = (env: Record<string, string>, now: string, listed: StoredSvid[] = []) =>
  loadChunk({
    config: localConfig(env),
    registry: { list: async () => enrollments },
    now: () => new Date(now),
  })({ accounts: enrollments.map((e) => e.accountId), retire: [], listed });

describe('Load Chunk paces issuance', () => {
  it("gives each issuance the whole second from which it may call the CA: the chunk's share of ISSUANCE_RATE", async () => {
    // 8 a second over 4 chunks at once: 2 a second in this chunk.
    const items = (await load(
      { ISSUANCE_RATE: '8', CHUNK_CONCURRENCY: '4' },
      '2026-12-07T10:00:00.750Z',
    )) as Issuance[];
    // From the next whole second: the current one's budget went to the chunks already running.
    expect(items.map((i) => i.notBefore)).toEqual([
      '2026-12-07T10:00:01Z',
      '2026-12-07T10:00:01Z',
      '2026-12-07T10:00:02Z',
      '2026-12-07T10:00:02Z',
      '2026-12-07T10:00:03Z',
      '2026-12-07T10:00:03Z',
      '2026-12-07T10:00:04Z',
      '2026-12-07T10:00:04Z',
      '2026-12-07T10:00:05Z',
      '2026-12-07T10:00:05Z',
      '2026-12-07T10:00:06Z',
      '2026-12-07T10:00:06Z',
    ]);
  });

  it('releases a fractional share as whole seconds: never more than the share in any second', async () => {
    const items = (await load(
      { ISSUANCE_RATE: '23', CHUNK_CONCURRENCY: '4' },
      '2026-12-07T10:00:00Z',
    )) as Issuance[];
    const perSecond = new Map<string, number>();
    for (const { notBefore } of items) perSecond.set(notBefore, (perSecond.get(notBefore) ?? 0) + 1);
    expect([...perSecond.values()]).toEqual([6, 6]);
  });

  it('refuses a rate that is not a whole number of certificates a second', () => {
    expect(() => localConfig({ ISSUANCE_RATE: '0' })).toThrow(/ISSUANCE_RATE/);
  });
});

describe("Load Chunk hands each issuance the plan's listing of its SVID", () => {
  it('by the name the SVID is stored under; an enrollment the plan listed nothing for gets an empty listing', async () => {
    const config = localConfig({});
    const listedSvid = (e: Enrollment): StoredSvid => ({
      secretName: svidSubject(config, e).secretName,
      arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${svidSubject(config, e).secretName}-AbCdEf`,
      spiffeId: svidSubject(config, e).spiffeId,
      serial: '0a',
      notAfter: '2026-12-08T10:00:00.000Z',
      service: e.service,
      environment: e.environment,
      accountId: e.accountId,
      readersDigest: 'digest',
      committed: true,
    });
    const third = listedSvid(enrollments[3] as Enrollment);
    const items = (await load({}, '2026-12-07T10:00:00Z', [third])) as Issuance[];
    expect(items.filter((i) => i.listing?.svid).map((i) => [i.service, i.listing?.svid])).toEqual([
      ['service-3', third],
    ]);
    // The rest were looked for and not listed: a first issuance creates their secrets without describing them.
    expect(items.filter((i) => !i.listing?.svid).map((i) => i.listing)).toEqual(Array(11).fill({}));
  });
});
