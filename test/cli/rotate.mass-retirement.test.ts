/** `trust-bridge rotate` and `start` in-process: an emptied registry retires nothing unless --allow-mass-retirement. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { main } from '../../cli/main';
import { ROTATE_USAGE } from '../../cli/rotate';
import { START_USAGE } from '../../cli/start';
import { capturePrinted } from '../support/printed';

let root: string;
const printed = capturePrinted();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trust-bridge-mass-retirement-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const records = Array.from({ length: 4 }, (_, i) => ({
  service: `service-${i}`,
  environment: 'prod',
  accountId: String(100_000_000_000 + i),
  identity: true,
}));

it('rotate refuses to retire every SVID of an emptied registry, and does it with --allow-mass-retirement', async () => {
  const enrollments = join(root, 'enrollments.json');
  const stack = ['--enrollments', enrollments, '--data-dir', join(root, 'data')];
  await writeFile(enrollments, JSON.stringify({ enrollments: records }));
  expect(await main(['rotate', '--once', ...stack])).toBe(0);

  await writeFile(enrollments, JSON.stringify({ enrollments: [] }));
  printed.length = 0;
  expect(await main(['rotate', '--once', ...stack])).toBe(1);
  const refused = printed.join('\n');
  expect(refused).toMatch(/REFUSED \(empty-registry\): would retire 4 of 4 SVIDs/);
  expect(refused).toMatch(/FAILED in .* \(0 issued, 0 skipped, 0 deleted, 0 failed\)/);
  expect(refused).toMatch(/MassRetirementRefused: .*would retire 4 of the 4 stored SVIDs/);

  printed.length = 0;
  expect(await main(['rotate', '--once', '--allow-mass-retirement', ...stack])).toBe(0);
  expect(printed.join('\n')).toMatch(/SUCCEEDED in .* \(0 issued, 0 skipped, 4 deleted, 0 failed\)/);
}, 120_000);

it('start takes --allow-mass-retirement too, and both commands say what it does', async () => {
  const enrollments = join(root, 'start-enrollments.json');
  const stack = ['--enrollments', enrollments, '--data-dir', join(root, 'start-data'), '--once'];
  await writeFile(enrollments, JSON.stringify({ enrollments: records }));
  expect(await main(['rotate', ...stack])).toBe(0);

  await writeFile(enrollments, JSON.stringify({ enrollments: [] }));
  printed.length = 0;
  expect(await main(['start', '--allow-mass-retirement', ...stack])).toBe(0);
  expect(printed.join('\n')).toMatch(/SUCCEEDED in .* \(0 issued, 0 skipped, 4 deleted, 0 failed\)/);

  for (const usage of [ROTATE_USAGE, START_USAGE]) expect(usage).toMatch(/--allow-mass-retirement\n\s+\S/);
}, 120_000);
