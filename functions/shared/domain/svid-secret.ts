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
  /**
   * `<version id>/<serial>/<not-after>/<digest of the SPIFFE ID>` of the version a write is about to store, tagged
   * before its value: a write cut off after the value still says which certificate it holds, without reading it.
   */
  pending: 'trust-bridge:pending',
} as const;

export const MANAGED_BY_VALUE = 'trust-bridge';
export const SPIRE_SVID_VALUE = 'true';
