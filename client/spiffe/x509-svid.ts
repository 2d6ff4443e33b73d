import { createPrivateKey, type KeyObject, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import { InvalidSpiffeId, parseSpiffeId, quote } from './spiffe-id';

/**
 * The X509-SVID rules that both the function-side client and trust-bridge's checks apply (X509-SVID spec): exactly
 * one URI SAN, a workload's SPIFFE ID; a leaf, not a CA; and a private key that is the certificate's. Each rule
 * returns every break as a sentence about "it" (the certificate): a report lists them all, a TLS check refuses on
 * any. Built on node:crypto alone, so a function's bundle carries no certificate library for them.
 */

/** A certificate as PEM or DER, node:crypto's, or node:tls's peer certificate (its `raw` DER). */
export type CertificateInput = X509Certificate | { raw: Uint8Array } | string | Uint8Array | ArrayBuffer;

/** The SPIFFE ID of an X509-SVID. Throws InvalidSpiffeId naming each X509-SVID rule the certificate breaks. */
export function spiffeIdOf(certificate: CertificateInput): string {
  const cert = certificateOf(certificate);
  const violations = [...uriSanViolations(cert), ...caViolations(cert)];
  if (violations.length > 0) {
    throw new InvalidSpiffeId(`the certificate is not an X509-SVID: ${violations.join('; ')}`);
  }
  return uriSansOf(cert)[0] as string;
}

/**
 * The SPIFFE ID a signing certificate carries (a SPIRE root carries its trust domain's, `spiffe://example.org`):
 * its one URI SAN, on a CA certificate. Throws InvalidSpiffeId otherwise.
 */
export function signingCertificateSpiffeId(certificate: CertificateInput): string {
  const cert = certificateOf(certificate);
  if (!cert.ca)
    throw new InvalidSpiffeId('the certificate is not a CA certificate (basicConstraints CA:false)');
  const uris = uriSansOf(cert);
  if (uris.length !== 1) {
    throw new InvalidSpiffeId(
      `the CA certificate has ${uris.length} URI SANs; it names itself by exactly one`,
    );
  }
  const [id] = uris as [string];
  parseSpiffeId(id);
  return id;
}

/** The URI SAN rule: exactly one, a SPIFFE ID with a path (and `expected`, when given). */
export function uriSanViolations(cert: X509Certificate, expected?: string): string[] {
  const uris = uriSansOf(cert);
  if (uris.length === 0)
    return ['it has no URI SAN; an X509-SVID carries its SPIFFE ID as exactly one URI SAN'];
  if (uris.length > 1) {
    return [`it has ${uris.length} URI SANs (${uris.map(quote).join(', ')}); an X509-SVID has exactly one`];
  }
  const [id] = uris as [string];
  const violations: string[] = [];
  try {
    if (parseSpiffeId(id).path.length === 0) {
      violations.push(`its SPIFFE ID ${id} has no path: it names a trust domain, not a workload`);
    }
  } catch (error) {
    violations.push(`its URI SAN is not a valid SPIFFE ID: ${(error as Error).message}`);
  }
  if (expected !== undefined && id !== expected)
    violations.push(`its SPIFFE ID is ${id}, expected ${expected}`);
  return violations;
}

/** An X509-SVID is a leaf: a CA certificate is not one, whatever it names. */
export function caViolations(cert: X509Certificate): string[] {
  return cert.ca
    ? ['it is a CA certificate (basicConstraints CA:true); an X509-SVID leaf must be CA:false']
    : [];
}

const KEY_KIND: Record<string, string> = {
  ec: 'ECDSA',
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ed25519: 'Ed25519',
};

/**
 * The private key must be a PKCS#8 PEM key (as SPIRE writes it and go-spiffe reads it) that holds the
 * certificate's key. Proves possession rather than comparing public halves: a key file can carry a public half
 * that is not its own. Never quotes the key.
 */
export function keyPairViolations(cert: X509Certificate, privateKeyPem: string): string[] {
  const type = cert.publicKey.asymmetricKeyType ?? 'unknown';
  let key: KeyObject | undefined;
  try {
    if (/-----BEGIN ([A-Z ]+)-----/.exec(privateKeyPem)?.[1] === 'PRIVATE KEY')
      key = createPrivateKey(privateKeyPem);
  } catch {
    // The parse error could quote key bytes; only the kind of problem is reported.
  }
  if (key?.asymmetricKeyType !== type) {
    return [`the private key is not a PKCS#8 PEM ${KEY_KIND[type] ?? type} key like the certificate's`];
  }
  const digest = type === 'ed25519' || type === 'ed448' ? null : 'sha256';
  const challenge = randomBytes(32);
  try {
    if (verify(digest, challenge, cert.publicKey, sign(digest, challenge, key))) return [];
  } catch {
    // A key that cannot sign for this certificate's algorithm does not match it either.
  }
  return ["the private key does not match the certificate's public key"];
}

/** The certificate's URI SANs, in order. */
function uriSansOf(cert: X509Certificate): string[] {
  return subjectAltNames(cert.subjectAltName ?? '')
    .filter(([type]) => type === 'URI')
    .map(([, uri]) => uri);
}

function certificateOf(input: CertificateInput): X509Certificate {
  if (input instanceof X509Certificate) return input;
  if (typeof input === 'string' || ArrayBuffer.isView(input)) return new X509Certificate(input);
  return new X509Certificate('raw' in input ? input.raw : Buffer.from(input));
}

/**
 * Node's subjectAltName text (`URI:spiffe://a/b, DNS:x`) as [type, value] pairs. Node quotes a value
 * holding a comma or quote as a JSON string, so a crafted name cannot pass for a second entry.
 */
function subjectAltNames(text: string): [string, string][] {
  const names: [string, string][] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon === -1) break;
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      const quoted = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(colon + 1));
      value = quoted ? (JSON.parse(quoted[0]) as string) : text.slice(colon + 1);
      end = quoted ? colon + 1 + quoted[0].length : text.length;
    } else {
      const comma = text.indexOf(', ', colon);
      end = comma === -1 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    names.push([type, value]);
    at = end + 2;
  }
  return names;
}
