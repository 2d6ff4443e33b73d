import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { caViolations, keyPairViolations, uriSanViolations } from '../../../client/spiffe/x509-svid';
import { SVID_EXTENDED_KEY_USAGE } from './svid-profile';

export interface SvidCheckOptions {
  /** The SPIFFE ID the certificate must carry. */
  expectedSpiffeId?: string;
  /** Trust bundle: root certificates, PEM. When given, the certificate must chain to one of them. */
  bundlePem?: string[];
  /** Intermediates between the leaf and the bundle, PEM (ACM PCA's chain without its root). */
  chainPem?: string[];
  /** The instant the certificate must be valid at; now by default. */
  now?: Date;
  /** PKCS#8 PEM: when given, it must be the private half of the certificate's public key. */
  privateKeyPem?: string;
}

/** A chain longer than this is not ours: it stops a loop of cross-signed intermediates. */
const MAX_CHAIN_DEPTH = 5;

/**
 * Checks a certificate against the SPIFFE X509-SVID rules and returns each rule it breaks, as a
 * sentence an operator can act on; an empty list means it is a valid X509-SVID. The rules the
 * function-side client applies too come from client/spiffe/; key usage, extended key usage and
 * the chain walk are read here with @peculiar/x509, which node:crypto cannot.
 */
export async function checkX509Svid(
  certificatePem: string,
  options: SvidCheckOptions = {},
): Promise<string[]> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certificatePem);
  } catch (error) {
    return [`not an X.509 certificate in PEM: ${(error as Error).message}`];
  }
  const now = options.now ?? new Date();
  const violations = [
    ...uriSanViolations(nodeCertificate(cert), options.expectedSpiffeId),
    ...leafViolations(cert),
    ...validityViolations(cert, now, 'the certificate'),
  ];
  if (options.bundlePem)
    violations.push(...(await chainViolations(cert, options.bundlePem, options.chainPem ?? [], now)));
  if (options.privateKeyPem !== undefined)
    violations.push(...keyPairViolations(nodeCertificate(cert), options.privateKeyPem));
  return violations;
}

/** The same certificate as node:crypto reads it, for the rules client/spiffe/ holds. */
export const nodeCertificate = (cert: x509.X509Certificate): X509Certificate =>
  new X509Certificate(Buffer.from(cert.rawData));

/** A leaf: not a CA, critical key usage with digitalSignature and neither keyCertSign nor cRLSign, TLS EKUs only. */
export function leafViolations(cert: x509.X509Certificate): string[] {
  const violations = caViolations(nodeCertificate(cert));
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage) {
    violations.push('it has no key usage extension; an X509-SVID must have one, marked critical');
  } else {
    const has = (flag: x509.KeyUsageFlags) => (keyUsage.usages & flag) !== 0;
    if (!keyUsage.critical) violations.push('its key usage extension is not marked critical');
    if (!has(x509.KeyUsageFlags.digitalSignature)) violations.push('its key usage lacks digitalSignature');
    if (has(x509.KeyUsageFlags.keyCertSign))
      violations.push('its key usage has keyCertSign, which a leaf must not have');
    if (has(x509.KeyUsageFlags.cRLSign))
      violations.push('its key usage has cRLSign, which a leaf must not have');
  }
  const extendedKeyUsage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (extendedKeyUsage) {
    const usages = extendedKeyUsage.usages.map(String);
    for (const required of SVID_EXTENDED_KEY_USAGE) {
      if (!usages.includes(required))
        violations.push(`its extended key usage lacks ${extendedKeyUsageName(required)}`);
    }
    for (const usage of usages) {
      if (!SVID_EXTENDED_KEY_USAGE.includes(usage)) {
        violations.push(
          `its extended key usage has ${extendedKeyUsageName(usage)}; only serverAuth and clientAuth belong`,
        );
      }
    }
  }
  return violations;
}

function extendedKeyUsageName(oid: string): string {
  const name = Object.entries(x509.ExtendedKeyUsage).find(([, value]) => value === oid)?.[0];
  return name ?? oid;
}

export function validityViolations(cert: x509.X509Certificate, now: Date, what: string): string[] {
  if (now < cert.notBefore) return [`${what} is not valid yet: notBefore ${cert.notBefore.toISOString()}`];
  if (now > cert.notAfter) return [`${what} expired at ${cert.notAfter.toISOString()}`];
  return [];
}

/** Walks issuer by issuer (signature checked at each step) until a bundle root signs the chain. */
export async function chainViolations(
  leaf: x509.X509Certificate,
  bundlePem: string[],
  chainPem: string[],
  now: Date,
): Promise<string[]> {
  let roots: x509.X509Certificate[];
  let intermediates: x509.X509Certificate[];
  try {
    roots = bundlePem.map((pem) => new x509.X509Certificate(pem));
    intermediates = chainPem.map((pem) => new x509.X509Certificate(pem));
  } catch (error) {
    return [
      `the trust bundle or chain holds something that is not a PEM certificate: ${(error as Error).message}`,
    ];
  }
  const violations: string[] = [];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const root = await findSigner(current, roots);
    if (root) return [...violations, ...validityViolations(root, now, `the bundle root ${root.subject}`)];
    const intermediate = await findSigner(current, intermediates);
    if (!intermediate) break;
    if (!intermediate.getExtension(x509.BasicConstraintsExtension)?.ca) {
      violations.push(`the chain certificate ${intermediate.subject} is not a CA`);
    }
    violations.push(
      ...validityViolations(intermediate, now, `the chain certificate ${intermediate.subject}`),
    );
    current = intermediate;
  }
  return [
    `it does not chain to the trust bundle: no bundle certificate signed ${current === leaf ? 'it' : current.subject} (issuer ${current.issuer})`,
  ];
}

async function findSigner(
  cert: x509.X509Certificate,
  candidates: x509.X509Certificate[],
): Promise<x509.X509Certificate | undefined> {
  for (const candidate of candidates) {
    if (candidate.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: candidate.publicKey, signatureOnly: true })) return candidate;
  }
  return undefined;
}
