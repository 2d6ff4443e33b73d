import { SecretNameNotMappable } from '../shared/domain/errors';
import {
  type KeywhizSecretInfo,
  recordedChecksum,
  SECRET_VALUE_MAX_BYTES,
  secretTooLarge,
} from '../shared/domain/keywhiz';
import { isMassRemoval, percent } from '../shared/domain/mass-removal';
import { findNameCollisions, syncedSecretName } from '../shared/domain/synced-secret-name';
import type { SyncedSecret } from '../shared/ports/secret-store/secret-store';

export interface NamedSecret {
  keywhizName: string;
  secretName: string;
}

/** A listed secret whose content must be read: new, changed, or without a checksum to compare. */
export interface ToFetch extends NamedSecret {
  info: KeywhizSecretInfo;
  stored?: SyncedSecret;
}

export interface Refusal {
  reason: 'older-than-stored' | 'mass-deletion' | 'not-owned';
  message: string;
  names?: NamedSecret;
  count?: number;
}

export interface Failure {
  error: string;
  message: string;
  names?: NamedSecret;
}

/** What an agent must do, decided from Keywhiz's listing and the account's tags alone: no value read. */
export interface Reconciliation {
  fetch: ToFetch[];
  /** Same checksum, scheduled for deletion: the secret came back within its recovery window. */
  restore: SyncedSecret[];
  /** Stored and gone from the listing. Subject to the mass-deletion guard (see guardDeletions). */
  remove: SyncedSecret[];
  unchanged: number;
  refusals: Refusal[];
  failures: Failure[];
}

/**
 * Compares a successful listing with what the account holds. `only` narrows both sides to one Keywhiz secret
 * (a webhook's targeted sync); deletion of that one secret then follows the same rule as in a full reconcile.
 */
export function reconcile(
  listing: KeywhizSecretInfo[],
  stored: SyncedSecret[],
  servicePrefix: string,
  only?: string,
): Reconciliation {
  const listed = only === undefined ? listing : listing.filter((s) => s.name === only);
  const held = only === undefined ? stored : stored.filter((s) => s.keywhizName === only);
  const heldByName = new Map(held.map((s) => [s.secretName, s]));
  const result: Reconciliation = {
    fetch: [],
    restore: [],
    remove: [],
    unchanged: 0,
    refusals: [],
    failures: [],
  };

  const colliding = new Set(findNameCollisions(listed.map((s) => s.name)).flat());
  const listedNames = new Set<string>();
  for (const info of listed) {
    let secretName: string;
    try {
      if (colliding.has(info.name)) {
        throw new SecretNameNotMappable(`Keywhiz lists "${info.name}" more than once`);
      }
      secretName = syncedSecretName(servicePrefix, info.name);
    } catch (error) {
      result.failures.push(failureOf(error));
      continue;
    }
    listedNames.add(secretName);
    const names = { keywhizName: info.name, secretName };
    const current = heldByName.get(secretName);

    if (info.secretLength !== undefined && info.secretLength > SECRET_VALUE_MAX_BYTES) {
      result.failures.push({ ...tooLarge(info.name, info.secretLength), names });
    } else if (current && isOlder(info.updateDate, current.updateDate)) {
      result.refusals.push({
        reason: 'older-than-stored',
        message: `Keywhiz content of "${info.name}" is from ${info.updateDate}, older than the stored ${current.updateDate}; not written`,
        names,
      });
    } else if (
      current &&
      // A cut-off write's checksum tag may not be the content's: only a complete secret is taken as unchanged.
      current.complete &&
      info.checksum !== undefined &&
      current.checksum === recordedChecksum(info.checksum)
    ) {
      if (current.deletedAt === undefined) result.unchanged += 1;
      else result.restore.push(current);
    } else {
      result.fetch.push({ ...names, info, ...(current ? { stored: current } : {}) });
    }
  }
  result.remove = held.filter((s) => s.deletedAt === undefined && !listedNames.has(s.secretName));
  return result;
}

/**
 * The mass-deletion guard: deleting more than `maxShare` of the account's live synced secrets at once looks
 * like a broken listing, not a decision, so none is deleted. A single deletion always goes through, or a
 * service with one secret could never lose it.
 */
export function guardDeletions(
  remove: SyncedSecret[],
  stored: SyncedSecret[],
  maxShare: number,
): { remove: SyncedSecret[]; refusal?: Refusal } {
  const live = stored.filter((s) => s.deletedAt === undefined).length;
  if (!isMassRemoval(remove.length, live, maxShare)) return { remove };
  return {
    remove: [],
    refusal: {
      reason: 'mass-deletion',
      message: `the listing would delete ${remove.length} of ${live} synced secrets, more than ${percent(maxShare)}; nothing deleted`,
      count: remove.length,
    },
  };
}

export const tooLarge = (keywhizName: string, bytes: number): Failure =>
  failureOf(secretTooLarge(keywhizName, bytes));

export const failureOf = (error: unknown): Failure => ({
  error: error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
});

/** True when both dates are known and Keywhiz's is strictly older. */
const isOlder = (keywhiz: string | undefined, stored: string | undefined): boolean =>
  keywhiz !== undefined && stored !== undefined && Date.parse(keywhiz) < Date.parse(stored);
