import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { InvalidRunRequest } from '../shared/domain/errors';
import { type SyncChunk, type SyncPlan, syncRequestSchema, syncTargets } from '../shared/domain/sync';
import { parseRunRequest } from '../shared/domain/run-request';
import { runFileKeys } from '../shared/domain/run-files';
import { withKeptReplay } from '../shared/kept-replay';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf(
  'AWS_REGION',
  'ENROLLMENTS_URL',
  'SYNC_CHUNK_SIZE',
  'SYNC_ACCOUNT_CONCURRENCY',
  'CHUNK_CONCURRENCY',
  'RUN_FILES_BUCKET',
);
export type PlanSyncDependencies = StepDependencies<typeof settings, 'registry' | 'runFiles'>;

export interface PlanSyncInput {
  /** The execution input, as given. */
  request: unknown;
  runId: string;
}

/**
 * Decides which agents a sync run starts: one per secret-enabled enrollment, narrowed to the `services` a change
 * names or the `accounts` a replay names, in chunks of SYNC_CHUNK_SIZE accounts. Reads the registry only: whether a
 * secret changed is each agent's business, so the orchestrator never sees a secret or even its listing. The chunks go
 * to the run's files (the same key and content again on a retry), so a run of any size leaves a small payload.
 */
export const planSync =
  ({ config, registry, runFiles }: Pick<PlanSyncDependencies, 'config' | 'registry' | 'runFiles'>) =>
  async (input: PlanSyncInput): Promise<SyncPlan> => {
    const request = await withKeptReplay(
      parseRunRequest(syncRequestSchema, input.request, 'sync'),
      runFiles,
      config.RUN_FILES_BUCKET,
      'sync-secrets',
    );
    const enrollments = (await registry.list()).filter((e) => e.secrets);
    if (request.accounts) {
      const known = new Set(enrollments.map((e) => e.accountId));
      const unknown = request.accounts.filter((a) => !known.has(a));
      if (unknown.length > 0) {
        throw new InvalidRunRequest(`no secret-enabled enrollment in account(s) ${unknown.join(', ')}`);
      }
    }
    const targets = syncTargets(
      enrollments,
      request.accounts && new Set(request.accounts),
      request.services && new Set(request.services),
    );
    const accounts = [...new Set(targets.map((t) => t.accountId))];
    const chunks: SyncChunk[] = [];
    for (let i = 0; i < accounts.length; i += config.SYNC_CHUNK_SIZE) {
      chunks.push({ accounts: accounts.slice(i, i + config.SYNC_CHUNK_SIZE) });
    }
    const keys = runFileKeys('sync-secrets', input.runId);
    const orders = await runFiles.write(keys.chunks, chunks);
    return {
      runId: input.runId,
      secret: request.secret ?? null,
      services: request.services ?? null,
      accountConcurrency: config.SYNC_ACCOUNT_CONCURRENCY,
      chunkConcurrency: config.CHUNK_CONCURRENCY,
      chunks: { ...orders, count: chunks.length },
      results: { bucket: orders.bucket, prefix: keys.results },
      targets: targets.length,
    };
  };

export const createHandler = (deps: PlanSyncDependencies) => stepHandler(planSync(deps), deps.logger);
