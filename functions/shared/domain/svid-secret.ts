import { InvalidConfiguration } from './errors';

/** Characters Secrets Manager accepts in a secret name, and its length limit. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** The SVID secret of a (service, environment): `<prefix><environment>/<service>`. */
export function svidSecretName(prefix: string, environment: string, service: string): string {
  const name = `${prefix}${environment}/${service}`;
  if (!SECRET_NAME.test(name)) {
    throw new InvalidConfiguration(
      `SVID secret name "${name}" is not a valid Secrets Manager name ([A-Za-z0-9/_+=.@-], at most 512 characters)`,
    );
  }
  return name;
}

/** Tag keys on an SVID secret. Everything an operator or the rotation needs is readable without the value. */
export const SVID_TAG = {
  /** Our ownership marker: a secret without it is never overwritten or deleted. */
  managedBy: 'trust-bridge:managed-by',
  /** SPIRE's own marker, so SPIRE tooling recognises the secret as an SVID. */
  spireSvid: 'spire-svid',
  spiffeId: 'trust-bridge:spiffe-id',
  serial: 'trust-bridge:serial',
  /** ISO-8601. */
  notAfter: 'trust-bridge:not-after',
  service: 'trust-bridge:service',
  environment: 'trust-bridge:environment',
  accountId: 'trust-bridge:account-id',
  /** Digest of the resource policy last written, so it is rewritten only when the readers change. */
  readersDigest: 'trust-bridge:readers-digest',
  /**
   * Written last by every write: `<current version id>/<digest of the tags above>`. A write cut off before it
   * leaves a commit that names another version or other tags, so the SVID is not taken as complete.
   */
  committed: 'trust-bridge:committed',
} as const;

export const MANAGED_BY_VALUE = 'trust-bridge';
export const SPIRE_SVID_VALUE = 'true';

/** What the store knows about an SVID without reading its value (from tags and version stages). */
export interface StoredSvid {
  secretName: string;
  arn: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
  service: string;
  environment: string;
  accountId: string;
  /** Set when the secret is scheduled for deletion. */
  deletedAt?: string;
  /** The digest of the resource policy last written, as its tag records it. */
  readersDigest: string;
  /**
   * The last write finished: its commit tag, written last, names the current version and the tags as they are.
   * When false, the tags may describe an older version and the policy may be missing or stale.
   */
  committed: boolean;
}

/**
 * What the run's plan saw under an SVID's name in its ListSecrets: `svid` when it listed one. A write starts from it
 * instead of describing the secret when it tells enough: nothing listed (a first issuance creates at once), or a
 * complete SVID (a renewal writes its version at once). A listing out of date by then is caught by those calls.
 */
export interface SvidListing {
  svid?: StoredSvid;
}
