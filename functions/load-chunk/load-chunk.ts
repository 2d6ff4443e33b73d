import { settingsOf } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import type { ChunkOrder, WorkItem } from '../shared/domain/rotation';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf('ENROLLMENTS_URL', 'SYNC_AGENT_ROLE_NAME');
export type LoadChunkDependencies = StepDependencies<typeof settings, 'registry'>;

/**
 * Expands a chunk's account ids into work items: one issuance per identity-enabled enrollment of those
 * accounts (read fresh from the registry, so a record removed since planning is not issued), then the
 * chunk's retirements. Reader roles travel with the item; they are names, not secrets.
 */
export const loadChunk =
  ({ config, registry }: Pick<LoadChunkDependencies, 'config' | 'registry'>) =>
  async (order: ChunkOrder): Promise<WorkItem[]> => {
    const accounts = new Set(order.accounts);
    const enrollments = await registry.list();
    const issuances: WorkItem[] = enrollments
      .filter((e) => e.identity && accounts.has(e.accountId))
      .map((e) => ({
        action: 'issue',
        accountId: e.accountId,
        service: e.service,
        environment: e.environment,
        // A secret-enabled service's sync agent shows Keywhiz this SVID, so its role reads it too.
        readerRoles: e.secrets ? [...e.readerRoles, config.SYNC_AGENT_ROLE_NAME] : e.readerRoles,
      }));
    return [...issuances, ...order.retire];
  };

export const createHandler = (deps: LoadChunkDependencies) => stepHandler(loadChunk(deps), deps.logger);
