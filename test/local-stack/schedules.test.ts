import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { deployedSchedules, ratePeriodMs } from '../../local-stack/schedules';

describe('the schedules serverless.yml deploys, as the local runtime reads them', () => {
  it('reads rotation and the full sync from the real serverless.yml, with param defaults applied', () => {
    const schedules = deployedSchedules();
    expect(schedules).toEqual(
      expect.arrayContaining([
        { machine: 'rotate-svids', expression: 'rate(12 hours)', everyMs: 12 * 3_600_000 },
        { machine: 'sync-secrets', expression: 'rate(1 hour)', everyMs: 3_600_000 },
      ]),
    );
    // Children are started by their parents, never by a schedule.
    expect(schedules.map((s) => s.machine).sort()).toEqual(['rotate-svids', 'sync-secrets']);
  });

  it('keeps a cron() schedule without a period, which the local runtime does not evaluate', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'schedules-')), 'serverless.yml');
    writeFileSync(
      path,
      [
        'params:',
        '  default:',
        "    syncSchedule: 'cron(0 * * * ? *)'",
        'stepFunctions:',
        '  stateMachines:',
        '    sync:',
        '      name: trust-bridge-${sls:stage}-sync-secrets',
        '      role: !GetAtt SyncRole.Arn',
        '      events:',
        '        - schedule:',
        '            rate: ${param:syncSchedule}',
        '        - eventBridge:',
        '            event: {}',
      ].join('\n'),
    );
    expect(deployedSchedules(path)).toEqual([{ machine: 'sync-secrets', expression: 'cron(0 * * * ? *)' }]);
  });

  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(2 days)', 172_800_000],
    ['rate(0 hours)', undefined],
    ['rate(1 week)', undefined],
    ['cron(0 12 * * ? *)', undefined],
  ])('%s lasts %p ms', (expression, ms) => {
    expect(ratePeriodMs(expression)).toBe(ms);
  });
});
