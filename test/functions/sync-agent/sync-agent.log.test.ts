import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { LEDGER, PAYMENTS, startSyncStack } from '../../support/sync-run';

/** The agent's one summary line per run, as CloudWatch gets it from Powertools' JSON logger. */

const written: string[] = [];
const original = process.stdout.write;
beforeEach(() => {
  const write = original.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => {
    written.push(String(chunk));
    return write(chunk as string, ...rest);
  }) as typeof process.stdout.write;
});
afterEach(() => {
  process.stdout.write = original;
});

test("'secrets synced' names the enrolled service, and Powertools warns of no reserved key", async () => {
  const s = await startSyncStack({ logLevel: 'INFO' });
  try {
    const sync = await s.stack.sync();
    expect(sync.status).toBe('SUCCEEDED');
  } finally {
    await s.close();
  }
  const lines = written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const synced = lines.filter((line) => line.message === 'secrets synced');
  expect(synced.map((line) => line.enrolledService).sort()).toEqual([LEDGER.service, PAYMENTS.service]);
  expect(synced[0]).toMatchObject({ level: 'INFO', service: 'trust-bridge-local' });
  expect(lines.filter((line) => String(line.message).includes('reserved key'))).toEqual([]);
});
