import { createHash } from 'node:crypto';
import { SecretNameNotMappable } from './errors';
import { KEYWHIZ_NAME_MAX } from './keywhiz';

/**
 * How a Keywhiz secret is named in an enrolled account's Secrets Manager.
 *
 *   <prefix><environment>/<service>/<encoded Keywhiz name>
 *
 * The encoding keeps `A-Z a-z 0-9 _ . = @ -` as they are and writes every other UTF-8 byte of the name
 * (`/`, `+`, `:`, space, anything non-ASCII) as `+XX`, uppercase hex. Secrets Manager names allow only
 * `[A-Za-z0-9/_+=.@-]`, at most 512 characters. Because `+` itself is always escaped, every `+` in an
 * output starts an escape: the mapping is injective and `keywhizNameOf` inverts it exactly.
 *
 * AWS warns against a name ending in `-` and six characters (it reads like the random ARN suffix when a
 * secret is looked up by partial ARN), so when the encoded name ends that way its `-` is written `+2D`.
 * A name of 5 characters or fewer can still end the full name that way through a `-` in the service
 * prefix; we address secrets by exact name or full ARN, never by partial ARN, so that is harmless.
 *
 * Secrets Manager names are case-sensitive: the API reference documents the `name` filter as a
 * case-sensitive prefix match ("Name: Data returns a secret named DatabaseSecret, but not databaseSecret"),
 * and only the unfiltered free-text search folds case. So outputs are compared exactly, and `Foo` and
 * `foo` are two secrets.
 */

/** Secrets Manager's limit on a secret name. */
export const SECRET_NAME_MAX = 512;

const KEPT = /^[A-Za-z0-9_.=@-]$/;
/** A lone UTF-16 surrogate has no UTF-8 form: encoding would replace it with U+FFFD and merge names. */
const LONE_SURROGATE = /\p{Cs}/u;
const ARN_SUFFIX_LOOKALIKE = /-(?=.{6}$)/;
const ESCAPE = /\+([0-9A-F]{2})/g;

/** The part of the names of one service's synced secrets before the encoded Keywhiz name. */
export function syncedSecretPrefix(prefix: string, environment: string, service: string): string {
  return `${prefix}${environment}/${service}/`;
}

/** The Secrets Manager name of a Keywhiz secret. Throws SecretNameNotMappable when there is none. */
export function syncedSecretName(servicePrefix: string, keywhizName: string): string {
  if (keywhizName.length === 0) throw new SecretNameNotMappable('a Keywhiz secret name is empty');
  if (keywhizName.length > KEYWHIZ_NAME_MAX) {
    throw new SecretNameNotMappable(
      `Keywhiz secret name "${keywhizName.slice(0, 40)}…" is ${keywhizName.length} characters long; Keywhiz allows at most ${KEYWHIZ_NAME_MAX}`,
    );
  }
  if (LONE_SURROGATE.test(keywhizName)) {
    throw new SecretNameNotMappable(
      `Keywhiz secret name ${JSON.stringify(keywhizName)} holds a lone UTF-16 surrogate, which has no UTF-8 form`,
    );
  }
  let encoded = '';
  for (const byte of new TextEncoder().encode(keywhizName)) {
    const char = String.fromCharCode(byte);
    encoded += KEPT.test(char) ? char : escape(byte);
  }
  const name = servicePrefix + encoded.replace(ARN_SUFFIX_LOOKALIKE, escape(0x2d));
  if (name.length > SECRET_NAME_MAX) {
    throw new SecretNameNotMappable(
      `Keywhiz secret name "${keywhizName}" maps to a Secrets Manager name of ${name.length} characters; the limit is ${SECRET_NAME_MAX}`,
    );
  }
  return name;
}

/** The Keywhiz name `syncedSecretName(servicePrefix, ·)` maps to `secretName`; undefined when none does. */
export function keywhizNameOf(servicePrefix: string, secretName: string): string | undefined {
  if (!secretName.startsWith(servicePrefix)) return undefined;
  const bytes: number[] = [];
  const encoded = secretName.slice(servicePrefix.length);
  let last = 0;
  for (const match of encoded.matchAll(ESCAPE)) {
    bytes.push(...new TextEncoder().encode(encoded.slice(last, match.index)));
    bytes.push(Number.parseInt(match[1] as string, 16));
    last = match.index + match[0].length;
  }
  bytes.push(...new TextEncoder().encode(encoded.slice(last)));
  let keywhizName: string;
  try {
    keywhizName = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
    // Only the one encoding the mapping produces counts (no needless or lowercase escapes, no raw `/`).
    return syncedSecretName(servicePrefix, keywhizName) === secretName ? keywhizName : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Groups of Keywhiz names that would land on the same Secrets Manager name. The mapping is injective and
 * names are compared exactly (see above), so only a name listed twice can form a group; checking the
 * outputs anyway keeps the guarantee from resting on the encoding alone. Unmappable names are left out
 * (syncedSecretName reports them).
 */
export function findNameCollisions(names: string[]): string[][] {
  const byOutput = new Map<string, string[]>();
  for (const name of names) {
    let output: string;
    try {
      output = syncedSecretName('', name);
    } catch {
      continue;
    }
    const group = byOutput.get(output);
    if (group) group.push(name);
    else byOutput.set(output, [name]);
  }
  return [...byOutput.values()].filter((group) => group.length > 1);
}

/**
 * The ClientRequestToken (and so the VersionId) of the version holding one Keywhiz revision: a UUID
 * (RFC 9562 version 8) from SHA-256 over (name, checksum), so a retry or replay of the same revision
 * never makes a second version.
 */
export function secretVersionToken(keywhizName: string, checksum: string): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(['trust-bridge/keywhiz-secret-version', keywhizName, checksum]))
    .digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x80;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function escape(byte: number): string {
  return `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}
