import { CERTIFICATE_AUTHORITY, settingsOf, SVID_NAMING, SVID_WRITER } from '../shared/config';
import type { StepDependencies } from '../shared/dependencies';
import { type Issuance, issuanceToken, needsNewSvid, type SvidOutcome } from '../shared/domain/rotation';
import { parseSpiffeId } from '../shared/domain/spiffe-id';
import { certificateFacts } from '../shared/domain/svid-certificate';
import { createSvidKeyAndCsr } from '../shared/domain/svid-key';
import { svidSubject } from '../shared/domain/svid-subject';
import { ListedWriteInterrupted, StoreThrottled } from '../shared/domain/errors';
import { stepHandler } from '../shared/step-handler';

/** What the function reads from its environment, its adapters' settings included. */
export const settings = settingsOf(
  'AWS_REGION',
  ...SVID_NAMING,
  ...SVID_WRITER,
  ...CERTIFICATE_AUTHORITY,
  'RENEW_BEFORE_HOURS',
);
export type IssueSvidDependencies = StepDependencies<typeof settings, 'authority' | 'svids' | 'now'>;

export interface IssueSvidInput {
  runId: string;
  force: boolean;
  item: Issuance;
  /** Set by 'Forget Listing' after a write from the item's listing was interrupted: describe the secret instead. */
  listingInterrupted?: boolean;
}

/**
 * Issues one enrollment's SVID and stores it. The private key is generated here and leaves this invocation
 * only inside the stored secret; the output carries the serial and expiry, never the key or certificate.
 */
export const issueSvid =
  ({ config, authority, svids, now }: IssueSvidDependencies) =>
  async ({ runId, force, item, listingInterrupted }: IssueSvidInput): Promise<SvidOutcome> => {
    const subject = svidSubject(config, item);
    parseSpiffeId(subject.spiffeId);
    const outcome = {
      accountId: item.accountId,
      service: item.service,
      environment: item.environment,
      ...subject,
    };
    const token = issuanceToken(runId, subject.spiffeId);
    const wanted = { spiffeId: subject.spiffeId, accountId: item.accountId };
    const renewal = { renewBeforeHours: config.RENEW_BEFORE_HOURS, force };
    const placement = {
      secretName: subject.secretName,
      service: item.service,
      environment: item.environment,
      accountId: item.accountId,
      readerRoles: item.readerRoles,
    };

    // What the plan listed under this name stands in for describing the secret when it tells enough: nothing (a
    // first issuance) or a complete SVID (a renewal). Anything else is looked at afresh. A listing out of date by
    // now is caught by the write itself.
    const listed = item.listing?.svid;
    const listing =
      !listingInterrupted &&
      item.listing &&
      (!listed || (listed.secretName === subject.secretName && svids.isComplete(listed, placement)))
        ? item.listing
        : undefined;
    const stored = listing
      ? listing.svid && { ...listing.svid, writtenByToken: false }
      : await svids.find(subject.secretName, token);
    if (stored && stored.deletedAt === undefined && !svids.isComplete(stored, placement)) {
      // Its tags cannot be trusted: judge the certificate the current version holds.
      const current = stored.current;
      const ownWrite = current?.versionId === token;
      const fresh =
        current !== undefined &&
        !needsNewSvid({ ...current, accountId: stored.accountId }, wanted, now(), renewal);
      if (current && (ownWrite || fresh)) {
        // A write cut off, or readers changed: finish it without a new certificate.
        const { repaired } = await svids.repair({ ...placement, ...current });
        const facts = { ...outcome, serial: current.serial, notAfter: current.notAfter };
        if (ownWrite) return { status: 'issued', ...facts };
        return repaired.length > 0
          ? { status: 'repaired', ...facts, repaired }
          : { status: 'skipped', ...facts };
      }
      // Unknown or due: a new certificate.
    } else if (stored?.writtenByToken) {
      // A retry or replay of an issuance that already reached the store: report it, write nothing.
      return { status: 'issued', ...outcome, serial: stored.serial, notAfter: stored.notAfter };
    }
    const issuedAt = now();
    if (stored && !needsNewSvid(stored, wanted, issuedAt, renewal)) {
      return { status: 'skipped', ...outcome, serial: stored.serial, notAfter: stored.notAfter };
    }

    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(subject.spiffeId);
    const issued = await authority.issue({ csrPem, spiffeId: subject.spiffeId, notBefore: issuedAt });
    const bundle = await authority.bundle();
    const { serial, notAfter } = certificateFacts(issued.certificatePem);

    const written = await svids
      .put({
        ...placement,
        issuanceToken: token,
        spiffeId: subject.spiffeId,
        serial,
        notAfter,
        ...(listing && { listing }),
        secret: {
          spiffeID: subject.spiffeId,
          x509SVID: pemChain([issued.certificatePem, ...issued.chainPem]),
          x509SVIDKey: privateKeyPem,
          bundle: pemChain(bundle),
          federatedBundles: {},
        },
      })
      .catch((error: unknown) => {
        // Retried as it stands, the step would start from the same listing and issue a second certificate.
        if (listing && error instanceof StoreThrottled) {
          throw new ListedWriteInterrupted(`${error.message}, after a write from the plan's listing began`, {
            cause: error,
          });
        }
        throw error;
      });
    // An earlier attempt of this issuance may have stored its own certificate: report what is stored.
    return { status: 'issued', ...outcome, serial: written.serial, notAfter: written.notAfter };
  };

/** PEM blocks one after another, each on lines of its own. */
const pemChain = (blocks: string[]): string => blocks.map((b) => (b.endsWith('\n') ? b : `${b}\n`)).join('');

export const createHandler = (deps: IssueSvidDependencies) => stepHandler(issueSvid(deps), deps.logger);
