import { type Config, settingsOf, SVID_NAMING } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import type { AuditEvent } from '../shared/domain/audit';
import { svidRetirementRefusedEvent, svidSkippedEvent } from '../shared/domain/audit-events';
import { type Enrollment, svidReaderRoles } from '../shared/domain/enrollment';
import { InvalidRunRequest, MassRetirementRefused } from '../shared/domain/errors';
import { isMassRemoval, percent } from '../shared/domain/mass-removal';
import {
  type ChunkOrder,
  needsNewSvid,
  type Retirement,
  type RotationPlan,
  type RotationRequest,
  rotationRequestSchema,
} from '../shared/domain/rotation';
import { svidSubject } from '../shared/domain/svid-subject';
import type { StoredSvid } from '../shared/domain/svid-secret';
import { parseRunRequest } from '../shared/domain/run-request';
import { runFileKeys } from '../shared/domain/run-files';
import { withKeptReplay } from '../shared/kept-replay';
import { stepHandler } from '../shared/step-handler';

export const settings = settingsOf(
  'AWS_REGION',
  'ENROLLMENTS_URL',
  'AUDIT_BUS_NAME',
  ...SVID_NAMING,
  'RENEW_BEFORE_HOURS',
  'CHUNK_SIZE',
  'ACCOUNT_CONCURRENCY',
  'CHUNK_CONCURRENCY',
  'MAX_RETIREMENTS_PER_RUN',
  'MAX_RETIREMENT_SHARE',
  // Judging an SVID's resource policy needs the issuer role and the sync agent's, which it names.
  'ISSUER_ROLE_ARN',
  'SYNC_AGENT_ROLE_NAME',
  'RUN_FILES_BUCKET',
);
export type PlanRotationDependencies = StepDependencies<
  typeof settings,
  'registry' | 'svids' | 'audit' | 'runFiles'
>;

export interface PlanRotationInput {
  /** The execution input, as given. */
  request: unknown;
  runId: string;
  startedAt: string;
}

/**
 * Decides what a run does. An account is rotated when any of its enrollments has an SVID that is missing,
 * renewal-due, for another SPIFFE ID, scheduled for deletion, or forced; the rest are skipped here from the
 * stored SVIDs' tags, which costs about one Secrets Manager call per 100 secrets and no CA call. The chunk orders go
 * to the run's files (the same key and content again on a retry), so a plan of any size leaves a small payload.
 */
export const planRotation =
  ({ config, registry, svids, audit, runFiles }: PlanRotationDependencies) =>
  async (input: PlanRotationInput): Promise<RotationPlan> => {
    const request = await withKeptReplay(
      parseRunRequest(rotationRequestSchema, input.request, 'rotation'),
      runFiles,
      config.RUN_FILES_BUCKET,
      'rotate-svids',
    );
    const now = new Date(input.startedAt);
    const [enrollments, stored] = await Promise.all([registry.list(), svids.listOwned()]);
    const wanted = request.accounts ? new Set(request.accounts) : undefined;
    if (wanted) rejectUnknownAccounts(wanted, enrollments, stored);

    const storedByName = new Map(stored.map((s) => [s.secretName, s]));
    const dueAccounts = new Set<string>();
    /** The listed SVIDs, by the account whose enrollment they are for: what its issuances start from. */
    const listed = new Map<string, StoredSvid[]>();
    const fresh: Array<{ enrollment: Enrollment; svid: StoredSvid; spiffeId: string }> = [];
    for (const enrollment of enrollments) {
      if (!enrollment.identity || (wanted && !wanted.has(enrollment.accountId))) continue;
      const { spiffeId, secretName } = svidSubject(config, enrollment);
      const svid = storedByName.get(secretName);
      // Tags are trusted only on a complete secret: a cut-off write or new readers go to the rotation,
      // which repairs them without a new certificate when the SVID is fresh.
      const readerRoles = svidReaderRoles(enrollment, config.SYNC_AGENT_ROLE_NAME);
      const whole = svid !== undefined && svids.isComplete(svid, { ...enrollment, secretName, readerRoles });
      const due =
        !whole ||
        needsNewSvid(svid, { spiffeId, accountId: enrollment.accountId }, now, {
          renewBeforeHours: config.RENEW_BEFORE_HOURS,
          force: request.force,
        });
      if (due) dueAccounts.add(enrollment.accountId);
      else fresh.push({ enrollment, svid, spiffeId });
      if (svid) listed.set(enrollment.accountId, [...(listed.get(enrollment.accountId) ?? []), svid]);
    }

    const retiring = findRetirements(config, enrollments, stored, wanted);
    await guardRetirements({ config, audit }, input.runId, request, { retiring, enrollments, stored });
    const retirements = retiring.slice(0, config.MAX_RETIREMENTS_PER_RUN);
    const chunks = chunk(dueAccounts, retirements, listed, config.CHUNK_SIZE);

    // An account that is rotated anyway reports its fresh enrollments from the rotation itself.
    const skipped = fresh.filter(({ enrollment }) => !dueAccounts.has(enrollment.accountId));
    const skippedEvents: AuditEvent[] = skipped.map(({ enrollment, svid, spiffeId }) =>
      svidSkippedEvent(
        input.runId,
        { ...enrollment, spiffeId, secretName: svid.secretName },
        svid.serial,
        svid.notAfter,
      ),
    );
    await audit.publish(skippedEvents);

    const keys = runFileKeys('rotate-svids', input.runId);
    const orders = await runFiles.write(keys.chunks, chunks);
    return {
      runId: input.runId,
      force: request.force,
      accountConcurrency: config.ACCOUNT_CONCURRENCY,
      chunkConcurrency: config.CHUNK_CONCURRENCY,
      chunks: { ...orders, count: chunks.length },
      results: { bucket: orders.bucket, prefix: keys.results },
      accounts: chunks.reduce((total, c) => total + c.accounts.length, 0),
      skipped: skipped.length,
    };
  };

const rejectUnknownAccounts = (wanted: Set<string>, enrollments: Enrollment[], stored: StoredSvid[]) => {
  const known = new Set([...enrollments.map((e) => e.accountId), ...stored.map((s) => s.accountId)]);
  const unknown = [...wanted].filter((a) => !known.has(a));
  if (unknown.length > 0) {
    throw new InvalidRunRequest(`not enrolled and holding no SVID: account(s) ${unknown.join(', ')}`);
  }
};

/** Stored SVIDs whose (service, environment) no longer has identity turned on. */
const findRetirements = (
  config: Pick<Config, (typeof SVID_NAMING)[number]>,
  enrollments: Enrollment[],
  stored: StoredSvid[],
  wanted: Set<string> | undefined,
): Retirement[] => {
  const byName = new Map(enrollments.map((e) => [svidSubject(config, e).secretName, e]));
  return stored
    .filter((s) => s.deletedAt === undefined && (!wanted || wanted.has(s.accountId)))
    .flatMap((s): Retirement[] => {
      const enrollment = byName.get(s.secretName);
      if (enrollment?.identity) return [];
      return [
        {
          action: 'retire',
          secretName: s.secretName,
          accountId: s.accountId,
          service: s.service,
          environment: s.environment,
          spiffeId: s.spiffeId,
          reason: enrollment ? 'identity-disabled' : 'enrollment-removed',
        },
      ];
    });
};

/**
 * Refuses, audited, a plan that retires as only a broken registry would: any SVID when the registry lists no
 * enrollment, or more than MAX_RETIREMENT_SHARE of the stored SVIDs (the rule sync's deletions follow). The whole
 * run stops: a registry that lost records is not to be trusted for the rest either. Counted before the per-run cap,
 * so an emptied registry cannot retire the fleet 500 at a time. `allowMassRetirement` lets the plan through.
 */
const guardRetirements = async (
  { config, audit }: Pick<PlanRotationDependencies, 'config' | 'audit'>,
  runId: string,
  request: RotationRequest,
  plan: { retiring: Retirement[]; enrollments: Enrollment[]; stored: StoredSvid[] },
): Promise<void> => {
  if (request.allowMassRetirement) return;
  const count = plan.retiring.length;
  const live = plan.stored.filter((s) => s.deletedAt === undefined).length;
  const maxShare = config.MAX_RETIREMENT_SHARE;
  const reason =
    count > 0 && plan.enrollments.length === 0
      ? 'empty-registry'
      : isMassRemoval(count, live, maxShare)
        ? 'mass-retirement'
        : undefined;
  if (!reason) return;
  const why =
    reason === 'empty-registry'
      ? 'and the enrollment registry lists no enrollment'
      : `more than MAX_RETIREMENT_SHARE (${percent(maxShare)})`;
  // Within the 300 characters a step's error keeps.
  const message =
    `refused: the plan would retire ${count} of the ${live} stored SVIDs, ${why}; nothing changed. Check the ` +
    'registry; if meant, run with allowMassRetirement: true in the input (locally --allow-mass-retirement)';
  await audit.publish([
    svidRetirementRefusedEvent(runId, { reason, count, stored: live, maxShare, message }),
  ]);
  throw new MassRetirementRefused(message);
};

/**
 * Splits the accounts into chunks of at most `size`, each with the retirements of its accounts and the SVIDs
 * listed under its due accounts' enrollments' names.
 */
const chunk = (
  dueAccounts: Set<string>,
  retirements: Retirement[],
  listed: Map<string, StoredSvid[]>,
  size: number,
): ChunkOrder[] => {
  const accounts = [...new Set([...dueAccounts, ...retirements.map((r) => r.accountId)])].sort();
  const chunks: ChunkOrder[] = [];
  for (let i = 0; i < accounts.length; i += size) {
    const members = accounts.slice(i, i + size);
    const inChunk = new Set(members);
    chunks.push({
      accounts: members,
      retire: retirements.filter((r) => inChunk.has(r.accountId)),
      listed: members.flatMap((account) => (dueAccounts.has(account) ? (listed.get(account) ?? []) : [])),
    });
  }
  return chunks;
};

export const createHandler = (deps: PlanRotationDependencies) => stepHandler(planRotation(deps), deps.logger);
