// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The X509-SVID profile both certificate authorities follow. On AWS it is ACM PCA's
 * `EndEntityCertificate_APIPassthrough/V1` template with the SPIFFE ID passed through as the one
 * URI SAN; the software CA builds the same certificate itself.
 */

// Pinned to Node's WebCrypto so x509 never depends on which globals a test VM context exposes.
x509.cryptoProvider.set(webcrypto);

/** Every SVID is valid exactly 24 h from its notBefore; rotation every 12 h keeps one valid at all times. */
export const SVID_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** The SVID key pair: ECDSA P-256, what SPIRE issues by default and ACM PCA signs with SHA256WITHECDSA. */
export const SVID_KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const SVID_SIGNATURE_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/** SPIFFE gives the subject no meaning; the CSR carries this one and the software CA sets the same. */
export const SVID_SUBJECT = 'C=US, O=SPIFFE';
/** SVID_SUBJECT as DER, for the CSRs and leaf certificates assembled by hand. */
export const SVID_SUBJECT_DER = Buffer.from(new x509.Name(SVID_SUBJECT).toArrayBuffer());

export const SVID_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
export const SVID_EXTENDED_KEY_USAGE: readonly string[] = [
  x509.ExtendedKeyUsage.serverAuth,
  x509.ExtendedKeyUsage.clientAuth,
];

/** X.509 times and ACM PCA's ABSOLUTE validity count whole seconds, so notBefore is cut to the second. */
export function svidValidity(notBefore: Date): { notBefore: Date; notAfter: Date } {
  const start = Math.floor(notBefore.getTime() / 1000) * 1000;
  if (!Number.isFinite(start)) throw new RangeError('notBefore is not a valid date');
  return { notBefore: new Date(start), notAfter: new Date(start + SVID_LIFETIME_MS) };
}

/**
 * The extensions every SVID carries unchanged: CA:false (critical), key usage (critical), TLS server
 * and client auth. Each SVID adds its URI SAN and its subject and authority key identifiers.
 */
export const SVID_FIXED_EXTENSIONS: readonly x509.Extension[] = [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.KeyUsagesExtension(SVID_KEY_USAGE, true),
  new x509.ExtendedKeyUsageExtension([...SVID_EXTENDED_KEY_USAGE], false),
];
