import type { SpireSvidSecret } from '../../../../client/spiffe/spire-secret';
import type { StoredSvid, SvidListing } from '../../domain/svid-secret';

export interface SvidPlacement {
  secretName: string;
  service: string;
  environment: string;
  /** The enrolled account whose reader roles may read the secret. */
  accountId: string;
  readerRoles: string[];
}

export interface SvidWrite extends SvidPlacement {
  /** Deterministic per issuance: a retry or replay of the same issuance makes no second version. */
  issuanceToken: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
  secret: SpireSvidSecret;
  /**
   * What the run's plan listed under this name. Nothing: the write creates the secret at once. A complete SVID:
   * it goes straight to PutSecretValue and the commit (a renewal's two calls). Calls that find the listing out of
   * date send the write back to describing the secret.
   */
  listing?: SvidListing;
}

/** The version an issuance stored, and the certificate it holds (an earlier attempt's, when that one stored it). */
export interface StoredIssuance {
  arn: string;
  versionId: string;
  serial: string;
  notAfter: string;
}

/** What a repair writes: the policy of the placement, and tags that describe the version already current. */
export interface SvidRepair extends SvidPlacement {
  /** The current version, as `find` told it: a repair never writes a version. */
  versionId: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
}

/**
 * The certificate the current version holds: as the committed tags tell it, or else as its value does (read
 * only for a version no commit describes, a write cut off).
 */
export interface CurrentCertificate {
  versionId: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
}

/** What a repair had to rewrite; empty when the SVID was complete after all. */
export type SvidRepairs = ('policy' | 'tags')[];

/**
 * One secret per (service, environment) in the central account's Secrets Manager.
 *
 * On AWS: `./secrets-manager-svid-store.ts`. At home: the same adapter over the Secrets Manager client's stand-in,
 * `local-stack/stand-ins/secrets-manager/`.
 */
export interface SvidStore {
  /** Every SVID secret carrying our ownership marker, from tags only: about one call per 100 secrets. */
  listOwned(): Promise<StoredSvid[]>;
  /**
   * The SVID stored under this name. `writtenByToken` is true when a labelled version (current or
   * previous) was written by this issuance token. `current` is the certificate the current version holds:
   * from the tags when committed, else read from the value (a write cut off); undefined when neither tells
   * (no current version, one scheduled for deletion, or a value that is not an SVID).
   * Throws SecretNotOwned for a secret without our marker.
   */
  find(
    secretName: string,
    issuanceToken?: string,
  ): Promise<(StoredSvid & { writtenByToken: boolean; current?: CurrentCertificate }) | undefined>;
  /**
   * The current value of an SVID secret, by name or full ARN (a cross-account read needs the ARN).
   * Throws SvidUnavailable when there is none: not issued yet, or scheduled for deletion.
   */
  read(secretId: string): Promise<SpireSvidSecret>;
  /**
   * True when the stored SVID can be trusted from its listing alone: committed, with the resource policy this
   * placement needs (its readers and the issuer). Decided from the tags, with no call.
   */
  isComplete(svid: StoredSvid, placement: SvidPlacement): boolean;
  /**
   * Finishes an SVID whose version is current but whose policy or tags are not: writes the placement's policy
   * (when the stored one differs) and tags describing `versionId`, then the commit. Writes no version and calls
   * no CA. Writes nothing when `versionId` is no longer current (a later write owns the secret now).
   * Throws SecretNotOwned for a secret without our marker, SvidUnavailable when there is no such secret.
   */
  repair(repair: SvidRepair): Promise<{ repaired: SvidRepairs }>;
  /** The resource policy as stored, or undefined when there is none. */
  policy(secretId: string): Promise<string | undefined>;
  /**
   * Writes a new version (idempotent per issuanceToken), the resource policy, the tags, and last the commit
   * tag; restores a secret scheduled for deletion first. A retry finishes a write that was cut off, tagging the
   * certificate its version holds; a retry of an issuance that a later one replaced changes nothing.
   * Throws SecretNotOwned, writing nothing, for a secret without our marker.
   */
  put(write: SvidWrite): Promise<StoredIssuance>;
  /** Schedules deletion with a recovery window. Throws SecretNotOwned for a foreign secret. */
  retire(secretName: string, recoveryWindowDays: number): Promise<{ deletionDate: string } | undefined>;
}
