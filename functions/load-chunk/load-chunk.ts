import { settingsOf, SVID_NAMING } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { svidReaderRoles } from '../shared/domain/enrollment';
import type { ChunkOrder, WorkItem } from '../shared/domain/rotation';
import { svidSubject } from '../shared/domain/svid-subject';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf(
  'ENROLLMENTS_URL',
  'SYNC_AGENT_ROLE_NAME',
  'ISSUANCE_RATE',
  'CHUNK_CONCURRENCY',
  // Which listed SVID is an enrollment's: the one stored under its name.
  ...SVID_NAMING,
);
export type LoadChunkDependencies = StepDependencies<typeof settings, 'registry' | 'now'>;

/**
 * Expands a chunk's account ids into work items: one issuance per identity-enabled enrollment of those
 * accounts (read fresh from the registry, so a record removed since planning is not issued), then the
 * chunk's retirements. Reader roles travel with the item; they are names, not secrets. So does what the plan
 * listed under the enrollment's SVID name, which spares a first issuance or a renewal its DescribeSecret.
 *
 * Each issuance gets the second from which it may call the CA: this chunk's share of ISSUANCE_RATE (the chunks
 * running at once share it), released a whole second at a time, so a fleet's rotation keeps under ACM PCA's
 * IssueCertificate quota instead of meeting it in throttles.
 */
export const loadChunk =
  ({ config, registry, now }: Pick<LoadChunkDependencies, 'config' | 'registry' | 'now'>) =>
  async (order: ChunkOrder): Promise<WorkItem[]> => {
    const accounts = new Set(order.accounts);
    const listed = new Map(order.listed.map((svid) => [svid.secretName, svid]));
    const enrollments = await registry.list();
    const perSecond = config.ISSUANCE_RATE / config.CHUNK_CONCURRENCY;
    // From the next whole second: this one's CA budget went to the chunks already running.
    const startSecond = Math.ceil(now().getTime() / 1000);
    const issuances: WorkItem[] = enrollments
      .filter((e) => e.identity && accounts.has(e.accountId))
      .map((e, i): WorkItem => {
        const svid = listed.get(svidSubject(config, e).secretName);
        return {
          action: 'issue',
          accountId: e.accountId,
          service: e.service,
          environment: e.environment,
          readerRoles: svidReaderRoles(e, config.SYNC_AGENT_ROLE_NAME),
          notBefore: wholeSecond(startSecond + Math.floor(i / perSecond)),
          listing: svid ? { svid } : {},
        };
      });
    return [...issuances, ...order.retire];
  };

/** Step Functions reads a Wait's timestamp as RFC 3339 with an upper-case T and Z: whole seconds keep it plain. */
const wholeSecond = (epochSecond: number) => new Date(epochSecond * 1000).toISOString().replace('.000Z', 'Z');

export const createHandler = (deps: LoadChunkDependencies) => stepHandler(loadChunk(deps), deps.logger);
