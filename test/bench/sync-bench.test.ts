import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { syncBenchCommand } from '../../bench/sync-bench';

/**
 * A smoke run of `bench sync --start N` as its child process runs it (`--scenario start:N`, in this process): a
 * small fleet, so it proves the figures are measured from a real `start --once`, not the 10,000-account figures.
 */
let printed: string[];
const capture = () => {
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => printed.push(String(line)));
  jest.spyOn(console, 'error').mockImplementation((line: unknown) => printed.push(String(line)));
};
afterEach(() => {
  jest.restoreAllMocks();
});

describe('bench sync --start', () => {
  it('runs npm start on a fresh fleet, every third account secret-enabled, and times both runs', async () => {
    capture();
    expect(await syncBenchCommand(['--scenario', 'start:30'])).toBe(0);
    const f = JSON.parse(printed.at(-1) ?? '{}') as Record<string, unknown>;
    expect(f).toMatchObject({
      scenario: 'start',
      accounts: 30,
      secretEnabled: 10,
      exitCode: 0,
      rotationStatus: 'SUCCEEDED',
      syncStatus: 'SUCCEEDED',
    });
    expect(f.rotationSeconds as number).toBeGreaterThan(0);
    expect(f.syncSeconds as number).toBeGreaterThan(0);
    expect(f.totalSeconds as number).toBeGreaterThan(
      (f.rotationSeconds as number) + (f.syncSeconds as number),
    );
  }, 120_000);

  it('refuses a fleet that is not a positive whole number', async () => {
    capture();
    expect(await syncBenchCommand(['--start', '0'])).toBe(2);
    expect(printed.join('\n')).toContain('--start takes a positive whole number');
  });
});
