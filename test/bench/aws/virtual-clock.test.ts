import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from '../../../bench/aws/token-bucket';
import { VirtualClock } from '../../../bench/aws/virtual-clock';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VirtualClock', () => {
  it('passes an hour of timers at once, in order, with Date following it', async () => {
    const clock = VirtualClock.install();
    try {
      const seen: string[] = [];
      const started = Date.now();
      await clock.run(
        Promise.all([
          sleep(3_600_000).then(() => seen.push(`hour at ${Date.now() - started}`)),
          sleep(1_000).then(() => seen.push(`second at ${Date.now() - started}`)),
        ]),
      );
      expect(seen).toEqual(['second at 1000', 'hour at 3600000']);
      expect(clock.elapsedMs).toBe(3_600_000);
    } finally {
      clock.uninstall();
    }
  });

  it('does not move while real work is in flight: file writes and WebCrypto take no simulated time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtual-clock-'));
    const clock = VirtualClock.install();
    try {
      const elapsed = await clock.run(
        (async () => {
          const timer = sleep(5);
          for (let i = 0; i < 20; i++) await writeFile(join(dir, `f${i}`), 'x'.repeat(100_000));
          await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
          const before = clock.elapsedMs;
          await timer;
          return [before, clock.elapsedMs];
        })(),
      );
      expect(elapsed).toEqual([0, 5]);
    } finally {
      clock.uninstall();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a run that can never end instead of waiting on it', async () => {
    const clock = VirtualClock.install();
    try {
      await expect(clock.run(new Promise(() => {}))).rejects.toThrow(/simulation stalled/);
    } finally {
      clock.uninstall();
    }
  });
});

describe('TokenBucket', () => {
  it('serves its burst at once, then its rate; a waiting caller is told how long', () => {
    const bucket = new TokenBucket(10, 3);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
    expect(bucket.waitMs(100)).toBe(100);
    expect(bucket.waitMs(100)).toBe(200);
  });
});
