/**
 * Rotation's guard against destructive input: a registry that lost its records must not retire the fleet's SVIDs.
 * Through the rotate-svids state machine on the local engine, with the file registry and with the HTTPS one.
 */
import { describe, expect, test } from '@jest/globals';
import { validateAuditEvent } from '../../events/schemas';
import { HttpsEnrollmentRegistry } from '../../functions/shared/ports/enrollment-registry/https-enrollment-registry';
import { enrollment, type EnrollmentRecord, startLocalStack } from '../support/local-run';

const account = (i: number) => String(100_000_000_000 + i);
const fleet = (n: number) => Array.from({ length: n }, (_, i) => enrollment(account(i), `service-${i}`));

/** A stack whose SVIDs for `records` are issued, so the next run's plan decides what to retire. */
const issued = async (records: EnrollmentRecord[], env: Record<string, string> = {}) => {
  const local = await startLocalStack(records, { env });
  expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
  return local;
};

const liveSvids = async (local: Awaited<ReturnType<typeof issued>>) =>
  (await local.stack.deps.svids.listOwned()).filter((s) => s.deletedAt === undefined).length;

describe('retiring SVIDs in bulk is refused unless the run allows it', () => {
  test('an empty registry (enrollments: []) retires nothing: the run fails, audited, naming what to do', async () => {
    const local = await issued(fleet(4));
    local.writeEnrollments([]);

    const refused = await local.stack.rotate();
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toBe('MassRetirementRefused');
    expect(refused.cause).toMatch(
      /would retire 4 of the 4 stored SVIDs, and the enrollment registry lists no/,
    );
    expect(refused.cause).toMatch(
      /allowMassRetirement: true in the input \(locally --allow-mass-retirement\)"\}$/,
    );
    expect(await liveSvids(local)).toBe(4);
    const events = await local.auditEvents(refused.name);
    expect(events.map((e) => [e['detail-type'], e.detail.reason, e.detail.count, e.detail.stored])).toEqual([
      ['SVID Retirement Refused', 'empty-registry', 4, 4],
    ]);
    expect(validateAuditEvent(events[0])).toEqual([]);

    const allowed = await local.stack.rotate({ allowMassRetirement: true });
    expect(allowed.status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(0);
  });

  test('an empty registry retires not even a single SVID, which the share rule alone would let through', async () => {
    const local = await issued(fleet(1));
    local.writeEnrollments([]);

    const refused = await local.stack.rotate();
    expect(refused.error).toBe('MassRetirementRefused');
    expect(await liveSvids(local)).toBe(1);
  });

  test('more than MAX_RETIREMENT_SHARE (10 %) of the stored SVIDs is refused; up to it, or one, goes through', async () => {
    const records = fleet(20);
    const local = await issued(records);

    // 3 of 20 is 15 %: nothing retired, not even the other accounts' renewals run.
    local.writeEnrollments(records.slice(3));
    const refused = await local.stack.rotate();
    expect(refused.error).toBe('MassRetirementRefused');
    expect(refused.cause).toMatch(
      /would retire 3 of the 20 stored SVIDs, more than MAX_RETIREMENT_SHARE \(10 %\)/,
    );
    const [event] = await local.auditEvents(refused.name);
    expect(event?.detail).toMatchObject({ reason: 'mass-retirement', count: 3, stored: 20, maxShare: 0.1 });
    expect(await liveSvids(local)).toBe(20);

    // 2 of 20 is exactly 10 %: not more than the share.
    local.writeEnrollments(records.slice(2));
    expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(18);

    // 1 of 18, and identity turned off rather than the record removed: the same rule.
    local.writeEnrollments([{ ...records[2]!, identity: false }, ...records.slice(3)]);
    expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(17);
  });

  test('a single retirement is never refused by the share, even of a quarter of the fleet', async () => {
    const records = fleet(4);
    const local = await issued(records);
    local.writeEnrollments(records.slice(1));
    expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(3);
  });

  test('MAX_RETIREMENT_SHARE sets the share', async () => {
    const records = fleet(4);
    const local = await issued(records, { MAX_RETIREMENT_SHARE: '0.5' });
    local.writeEnrollments(records.slice(2));
    expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(2);
  });

  test('the share counts every retirement, not the 500 a run may do (MAX_RETIREMENTS_PER_RUN)', async () => {
    const records = fleet(10);
    const local = await issued(records, { MAX_RETIREMENTS_PER_RUN: '1' });
    local.writeEnrollments(records.slice(5));
    expect((await local.stack.rotate()).error).toBe('MassRetirementRefused');
    expect(await liveSvids(local)).toBe(10);
  });

  test('on AWS: an enrollment endpoint answering {"enrollments": []} retires nothing', async () => {
    let body = JSON.stringify({ enrollments: fleet(3) });
    const fetch = (async () => new Response(body)) as typeof globalThis.fetch;
    const local = await startLocalStack([], {
      decorate: (deps) => ({
        ...deps,
        registry: new HttpsEnrollmentRegistry('https://registry.example.org/enrollments', { fetch }),
      }),
    });
    expect((await local.stack.rotate()).status).toBe('SUCCEEDED');
    expect(await liveSvids(local)).toBe(3);

    body = JSON.stringify({ enrollments: [] });
    const refused = await local.stack.rotate();
    expect(refused.error).toBe('MassRetirementRefused');
    expect(await liveSvids(local)).toBe(3);
  });
});
