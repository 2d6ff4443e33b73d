import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { burstBenchCommand } from '../../bench/burst-bench';
import { fuzzBenchCommand } from '../../bench/webhook-fuzz';

/**
 * Smoke runs of `bench burst` and `bench fuzz`, each as its child process runs it (`--scenario`, in this
 * process): short and small, so they prove the figures are measured and meet their targets, not the
 * full-size figures (those come from the 60 s burst and the 20,000-request fuzz, in the README).
 */
let printed: string[];
const capture = () => {
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => printed.push(String(line)));
  jest.spyOn(console, 'error').mockImplementation((line: unknown) => printed.push(String(line)));
};
const figures = () => JSON.parse(printed.at(-1) ?? '{}') as Record<string, unknown>;
afterEach(() => {
  jest.restoreAllMocks();
});

describe('bench burst', () => {
  it('measures a short burst: every delivery accepted, 0 failed syncs, every change lands, each started or folded', async () => {
    capture();
    const code = await burstBenchCommand(['--scenario', '--seconds', '3', '--rate', '10', '--secrets', '5']);
    expect(code).toBe(0);
    const f = figures();
    expect(f).toMatchObject({ deliveries: 30, answers: { '202': 30 }, failedSyncs: 0, staleAtEnd: 0 });
    // How many fold depends on how fast the syncs run here; test/local-stack/webhook-sync-queue.test.ts pins folding.
    expect((f.syncsStarted as number) + (f.coalesced as number)).toBe(30);
    expect(f.maxMs as number).toBeGreaterThan(0);
    expect(f.peakRssMb as number).toBeGreaterThan(0);
  }, 120_000);

  it('refuses a bad option with exit 2 and its usage', async () => {
    capture();
    expect(await burstBenchCommand(['--rate', '0'])).toBe(2);
    expect(printed.join('\n')).toContain('--rate: must be a positive number');
    expect(printed.join('\n')).toContain('bench burst [options]');
  });
});

describe('bench fuzz', () => {
  it('sends seeded bad requests beside valid ones: none accepted, no 5xx, every valid one announced once', async () => {
    capture();
    const code = await fuzzBenchCommand(['--scenario', '--requests', '300', '--stalled', '0', '--seed', '7']);
    expect(code).toBe(0);
    const f = figures();
    expect(f).toMatchObject({
      sent: 300,
      invalidAccepted: 0,
      fiveXx: 0,
      validRefused: 0,
      stalledLeftOpen: 0,
    });
    expect(f.changesAnnounced).toBe(f.validAccepted);
    expect(Object.keys(f.byKind as object).sort()).toEqual(
      expect.arrayContaining(['malformed', 'oversized', 'stale', 'valid']),
    );
  }, 120_000);
});
