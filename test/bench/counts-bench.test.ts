import { readFileSync } from 'node:fs';
import { expect, it } from '@jest/globals';
import { measureCounts } from '../../bench/counts-bench';
import { measuredCounts } from '../../cli/cost';

it('cli/cost/measured-counts.json is what `bench counts` measures today, on the fleet it names', async () => {
  const committed = JSON.parse(
    readFileSync(new URL('../../cli/cost/measured-counts.json', import.meta.url), 'utf8'),
  ) as Awaited<ReturnType<typeof measureCounts>>;
  // The cost command reads the same file, and it passes the command's checks.
  expect(measuredCounts().measuredWith).toBe(committed.measuredWith);
  const measured = await measureCounts(committed.fleet.accounts, committed.fleet.secretsPerAccount);
  expect(measured).toEqual(committed);
}, 180_000);
