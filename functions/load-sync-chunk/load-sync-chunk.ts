import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { type SyncTarget, syncTargets } from '../shared/domain/sync';
import { stepHandler } from '../shared/step-handler';

export interface LoadSyncChunkInput {
  accounts: string[];
  /** The services a change names, or null for all. */
  services: string[] | null;
}

export const settings = settingsOf('ENROLLMENTS_URL');
export type LoadSyncChunkDependencies = StepDependencies<typeof settings, 'registry'>;

/**
 * Expands a chunk's account ids into one target per secret-enabled service of those accounts, read fresh from
 * the registry (a record removed since planning starts no agent), narrowed to the change's services.
 */
export const loadSyncChunk =
  ({ registry }: Pick<LoadSyncChunkDependencies, 'registry'>) =>
  async ({ accounts, services }: LoadSyncChunkInput): Promise<SyncTarget[]> =>
    syncTargets(await registry.list(), new Set(accounts), services ? new Set(services) : undefined);

export const createHandler = (deps: LoadSyncChunkDependencies) =>
  stepHandler(loadSyncChunk(deps), deps.logger);
