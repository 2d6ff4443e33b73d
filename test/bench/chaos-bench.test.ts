import { describe, expect, it, jest } from '@jest/globals';
import { type ChaosFigures, chaosBenchCommand, invariantsHeld, runChaos } from '../../bench/chaos-bench';

/**
 * The chaos bench on a tiny fleet: faults were really injected (or the CLI really killed), and every invariant
 * the full-size bench reports holds. The figures are printed when one does not, with the failing cases.
 */

const expectInvariants = (figures: ChaosFigures) => {
  expect({ held: invariantsHeld(figures), problems: figures.problems }).toEqual({
    held: {
      'converged within the retries plus at most one replay': true,
      '0 duplicate versions': true,
      '0 regressions to older content': true,
      '0 failures not audited': true,
    },
    problems: [],
  });
};

describe('chaos on a tiny fleet', () => {
  it('a rotation of 12 accounts, then a forced one, under throttles, 5xx and timeouts', async () => {
    const figures = await runChaos({ workflow: 'rotation', mode: 'faults', size: 12, seed: 7 });
    expect(figures.faults.throttle).toBeGreaterThan(0);
    expect(figures.faults.serverError).toBeGreaterThan(0);
    expect(figures.faults.timeout).toBeGreaterThan(0);
    expectInvariants(figures);
  }, 180_000);

  it('a rotation of 12 accounts whose CLI is SIGKILLed mid-run, then rerun', async () => {
    const figures = await runChaos({ workflow: 'rotation', mode: 'kills', size: 12, seed: 7, kills: 1 });
    expect(figures.sigkills).toBe(1);
    expectInvariants(figures);
    expect(figures.leftoverTempFiles).toBe(0);
  }, 180_000);

  it('a sync of 40 secrets changed in Keywhiz, whose CLI is SIGKILLed mid-run, then rerun', async () => {
    const figures = await runChaos({ workflow: 'sync', mode: 'kills', size: 40, seed: 7, kills: 1 });
    expect(figures.sigkills).toBe(1);
    expectInvariants(figures);
  }, 240_000);

  it('a sync of 40 secrets, then of every one changed in Keywhiz, under throttles, 5xx and timeouts', async () => {
    const figures = await runChaos({ workflow: 'sync', mode: 'faults', size: 40, seed: 7 });
    expect(figures.faults.throttle).toBeGreaterThan(0);
    expectInvariants(figures);
  }, 180_000);
});

it('a fleet of no accounts, or a kill count that is no number, is a usage error', async () => {
  const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(await chaosBenchCommand(['--accounts', '0'])).toBe(2);
    expect(await chaosBenchCommand(['--kills', 'many'])).toBe(2);
    expect(String(errors.mock.calls[0]?.[0])).toContain('--accounts and --secrets take whole numbers from 1');
  } finally {
    errors.mockRestore();
  }
});
