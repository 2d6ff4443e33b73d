import { describe, expect, it } from '@jest/globals';
import { loadSyncChunk } from '../../../functions/load-sync-chunk/load-sync-chunk';
import { planSync } from '../../../functions/plan-sync/plan-sync';
import { localConfig } from '../../../local-stack/local-config';
import type { Enrollment } from '../../../functions/shared/domain/enrollment';
import type { SyncChunk, SyncPlan } from '../../../functions/shared/domain/sync';
import type { RunFiles } from '../../../functions/shared/ports/run-files/run-files';

const enrollment = (accountId: string, service: string, secrets = true): Enrollment => ({
  service,
  environment: 'prod',
  accountId,
  identity: true,
  secrets,
  readerRoles: [],
});
const enrollments = [
  enrollment('111111111111', 'payments'),
  enrollment('222222222222', 'ledger'),
  enrollment('222222222222', 'billing'),
  enrollment('333333333333', 'search', false),
];
const registry = { list: async () => enrollments };
/** The run files as JSON text by key, so a test sees exactly what was written. */
const files = new Map<string, string>();
const runFiles: RunFiles = {
  write: async (key, document) => {
    files.set(key, JSON.stringify(document));
    return { bucket: 'run-files', key };
  },
  read: async (key) => JSON.parse(files.get(key)!),
};
const plan = (request: unknown, env: Record<string, string> = {}) =>
  planSync({ config: localConfig(env), registry, runFiles })({ request, runId: 'run-1' });
const chunksOf = async (p: SyncPlan) => (await runFiles.read(p.chunks.key)) as SyncChunk[];
/** What the run's chunks expand to, as each child's Load Sync Chunk does. */
const targets = async (p: SyncPlan) =>
  (
    await Promise.all(
      (await chunksOf(p)).map((c) =>
        loadSyncChunk({ registry })({ accounts: c.accounts, services: p.services }),
      ),
    )
  )
    .flat()
    .map((t) => `${t.accountId}/${t.service}`);

describe('Plan Sync', () => {
  it('a full reconcile targets every secret-enabled enrollment, in chunks of accounts', async () => {
    const p = await plan({}, { SYNC_CHUNK_SIZE: '1' });
    expect(p.secret).toBeNull();
    expect(p.chunks).toEqual({ bucket: 'run-files', key: 'sync-secrets/run-1/chunks.json', count: 2 });
    expect(p.results).toEqual({ bucket: 'run-files', prefix: 'sync-secrets/run-1/results' });
    expect(await chunksOf(p)).toEqual([{ accounts: ['111111111111'] }, { accounts: ['222222222222'] }]);
    expect(p.targets).toBe(3);
    expect(await targets(p)).toEqual([
      '111111111111/payments',
      '222222222222/billing',
      '222222222222/ledger',
    ]);
  });

  it('plans a run of 100,000 accounts into the run files, leaving a payload of a few hundred bytes', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) => enrollment(String(100_000_000_000 + i), `s-${i}`));
    const p = await planSync({ config: localConfig({}), registry: { list: async () => many }, runFiles })({
      request: {},
      runId: 'run-1',
    });
    expect(p.targets).toBe(100_000);
    expect(p.chunks.count).toBe(1_000);
    expect((await chunksOf(p)).flatMap((c) => c.accounts)).toHaveLength(100_000);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThan(512);
  });

  it('a change narrows to the services it names; a replay to the accounts it names', async () => {
    const change = await plan({
      deliveryId: 'd-1',
      event: 'secret.updated',
      secret: 'db',
      services: ['ledger'],
    });
    expect(change.secret).toBe('db');
    expect(await targets(change)).toEqual(['222222222222/ledger']);
    expect(await targets(await plan({ accounts: ['222222222222'] }))).toEqual([
      '222222222222/billing',
      '222222222222/ledger',
    ]);
    // A service nobody enrolled for secrets: nothing to do, not an error.
    expect((await plan({ secret: 'db', services: ['search'] })).targets).toBe(0);
  });

  it('refuses malformed input and accounts without a secret-enabled enrollment, naming the problem', async () => {
    await expect(plan({ accounts: ['333333333333'] })).rejects.toThrow(
      'no secret-enabled enrollment in account(s) 333333333333',
    );
    await expect(plan({ secret: '', colour: 'blue' })).rejects.toMatchObject({
      name: 'InvalidRunRequest',
      message: expect.stringMatching(/^invalid sync input: .*secret.*colour/),
    });
    await expect(plan({ event: 'secret.renamed' })).rejects.toThrow(/event/);
  });
});
