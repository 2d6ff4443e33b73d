import type { SpireSvidSecret } from '../ports/svid-store/svid-store';
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

/**
 * The value exactly as SPIRE's aws_secretsmanager store writes it (`json.Marshal` of its `Data` struct):
 * fields in struct order, empty ones omitted (`omitempty`), map keys sorted, Go's string escaping.
 */
export function encodeSpireSvidSecret(secret: SpireSvidSecret): Uint8Array {
  const fields: string[] = [];
  const add = (key: string, value: string) => {
    if (value !== '') fields.push(`${goString(key)}:${goString(value)}`);
  };
  add('spiffeID', secret.spiffeID);
  add('x509SVID', secret.x509SVID);
  add('x509SVIDKey', secret.x509SVIDKey);
  add('bundle', secret.bundle);
  const federated = Object.entries(secret.federatedBundles)
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([domain, pem]) => `${goString(domain)}:${goString(pem)}`);
  if (federated.length > 0) fields.push(`${goString('federatedBundles')}:{${federated.join(',')}}`);
  return new TextEncoder().encode(`{${fields.join(',')}}`);
}

/** Reads a value written by SPIRE or by us. Throws a TypeError (naming no content) when it is not one. */
export function decodeSpireSvidSecret(bytes: Uint8Array): SpireSvidSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new TypeError('SVID secret value is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('SVID secret value is not a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const text = (key: string): string => {
    const value = record[key] ?? '';
    if (typeof value !== 'string') throw new TypeError(`SVID secret field "${key}" is not a string`);
    return value;
  };
  const federated = record.federatedBundles ?? {};
  if (
    typeof federated !== 'object' ||
    federated === null ||
    Array.isArray(federated) ||
    Object.values(federated).some((pem) => typeof pem !== 'string')
  ) {
    throw new TypeError('SVID secret field "federatedBundles" is not a map of strings');
  }
  return {
    spiffeID: text('spiffeID'),
    x509SVID: text('x509SVID'),
    x509SVIDKey: text('x509SVIDKey'),
    bundle: text('bundle'),
    federatedBundles: { ...(federated as Record<string, string>) },
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A JSON string as Go's encoding/json writes it: JSON.stringify's escaping plus Go's HTML-safe escapes
 * (<, >, &) and U+2028/U+2029. Lone surrogates become U+FFFD first, as UTF-8 encoding would make them.
 */
function goString(value: string): string {
  return JSON.stringify(value.replace(LONE_SURROGATE, '\uFFFD')).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
