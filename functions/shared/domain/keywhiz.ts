import { createHash, X509Certificate } from 'node:crypto';
import { InvalidConfiguration, SecretTooLarge } from './errors';

/** Keywhiz's names are at most this long. */
export const KEYWHIZ_NAME_MAX = 195;

/** One secret as Keywhiz lists it (`GET /secrets`): metadata only, never content. */
export interface KeywhizSecretInfo {
  name: string;
  /** Keywhiz's opaque HMAC of the content: a change token, not recomputable. Absent on old servers. */
  checksum?: string;
  /** ISO-8601 UTC, as Keywhiz sends it. */
  creationDate?: string;
  /** ISO-8601 UTC: when the content last changed. */
  updateDate?: string;
  /** Bytes of the decoded content, when the server says. */
  secretLength?: number;
  /** Keywhiz flattens a secret's metadata (mode, owner, group…) into the top level; strings only. */
  metadata: Record<string, string>;
}

/** One secret with its content (`GET /secret/{name}`, `POST /batchsecret`). Lives inside one invocation. */
export interface KeywhizSecret extends KeywhizSecretInfo {
  /** The decoded content. Never logged, never put in a payload or an event. */
  content: Uint8Array;
}

/** Secrets Manager takes values of at most this many bytes. */
export const SECRET_VALUE_MAX_BYTES = 65_536;

export const secretTooLarge = (keywhizName: string, bytes: number): SecretTooLarge =>
  new SecretTooLarge(
    `Keywhiz secret "${keywhizName}" is ${bytes} bytes; Secrets Manager takes at most ${SECRET_VALUE_MAX_BYTES}`,
  );

/** True when a Secrets Manager tag value can hold `value` as it is. */
export const fitsTagValue = (value: string): boolean => /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u.test(value);

/**
 * A Keywhiz checksum as a synced secret records it (in a tag): unchanged when a tag value can hold it (Keywhiz's
 * hex HMACs always can), else `sha256:<hex>` of it. Compare a Keywhiz checksum with a recorded one through this.
 */
export function recordedChecksum(checksum: string): string {
  return fitsTagValue(checksum) ? checksum : `sha256:${createHash('sha256').update(checksum).digest('hex')}`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * The PEM bundle that Keywhiz's server certificate must chain to (Keywhiz's own CA), checked: at least one
 * CERTIFICATE block, each a parseable X.509 certificate, no other kind of block (a pasted private key is refused
 * without being echoed). Errors carry no PEM marker either: the audit sink refuses anything that looks like a key. Text between blocks (`subject=…` lines of a bundle file) is ignored. `source` names where
 * the bundle is kept, for the error. Returns the certificates alone, one PEM block each.
 */
export function parseServerCaBundle(pem: string, source: string): string {
  const problem = (why: string) => new InvalidConfiguration(`${source}: ${why}`);
  if (pem.trim() === '') {
    throw problem(
      "it is empty; it must hold the PEM certificate(s) of the CA that signs Keywhiz's certificate",
    );
  }
  const certificates: string[] = [];
  for (const [block, label] of pem.matchAll(PEM_BLOCK)) {
    // Neither the label nor the block is echoed: a key pasted here must not reach an event or a log.
    if (label !== 'CERTIFICATE') {
      throw problem(
        'it holds a PEM block that is not a certificate (a key?); only certificates belong in a CA bundle',
      );
    }
    try {
      new X509Certificate(block);
    } catch {
      throw problem(`PEM certificate ${certificates.length + 1} is not a valid X.509 certificate`);
    }
    certificates.push(`${block}\n`);
  }
  if (certificates.length === 0) {
    throw problem('it holds no PEM certificate');
  }
  return certificates.join('');
}
