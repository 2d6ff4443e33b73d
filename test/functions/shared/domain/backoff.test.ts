import { describe, expect, it } from '@jest/globals';
import { retrying } from '../../../../functions/shared/domain/backoff';

describe('retrying', () => {
  const policy = (sleeps: number[], maxAttempts = 4) => ({
    maxAttempts,
    baseMs: 100,
    capMs: 300,
    random: () => 1,
    sleep: async (ms: number) => void sleeps.push(ms),
  });

  it('stops at the first attempt that asks for no other, and returns its result', async () => {
    const sleeps: number[] = [];
    const result = await retrying(policy(sleeps), async (n) => ({ result: n, again: n < 2 }));
    expect(result).toBe(2);
    expect(sleeps).toEqual([100]);
  });

  it('returns the last result after maxAttempts, waiting the capped exponential delay plus what was asked', async () => {
    const sleeps: number[] = [];
    const tried: number[] = [];
    const result = await retrying(policy(sleeps), async (n) => {
      tried.push(n);
      return { result: `attempt ${n}`, again: true, waitMs: n === 1 ? 1000 : 0 };
    });
    expect(result).toBe('attempt 4');
    expect(tried).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([1100, 200, 300]);
  });

  it('draws each wait at random up to its bound (full jitter)', async () => {
    const sleeps: number[] = [];
    await retrying({ ...policy(sleeps, 3), random: () => 0.5 }, async () => ({ result: 0, again: true }));
    expect(sleeps).toEqual([50, 100]);
  });

  it('lets an attempt throw: no further attempt', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await expect(
      retrying(policy(sleeps), async () => {
        calls += 1;
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });
});
