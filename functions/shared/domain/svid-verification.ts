import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { certificatesIn, type SpireSvidSecret } from '../../../client/spiffe/spire-secret';
import { keyPairViolations, uriSanViolations } from '../../../client/spiffe/x509-svid';
import { formatDuration } from './duration';
import { parseSpiffeId } from './spiffe-id';
import { chainViolations, leafViolations, validityViolations } from './svid-rules';

export type CheckResult = 'pass' | 'warn' | 'fail';

/** One check of a stored SVID, with why it passed or failed. Never key material or a PEM. */
export interface SvidCheck {
  check: string;
  result: CheckResult;
  detail: string;
}

/** What the SVID's tags say about the certificate it holds (the SVID store lists them). */
export interface SvidTags {
  spiffeId: string;
  serial: string;
  /** ISO-8601. */
  notAfter: string;
}

export interface SvidVerificationOptions {
  /** The trust domain the deployment issues in. */
  trustDomain: string;
  now: Date;
  /** An SVID valid for less than this still passes, with a warning: the next rotation should have renewed it. */
  warnWithinMs: number;
}

/**
 * Checks a stored SVID as a function would rely on it: the SPIFFE rules, the chain to the bundle, the key, the
 * expiry, and that the tags (what `trust-bridge status` and the rotation read) describe this certificate.
 */
export async function verifyStoredSvid(
  stored: SvidTags,
  secret: SpireSvidSecret,
  options: SvidVerificationOptions,
): Promise<SvidCheck[]> {
  let chain: X509Certificate[];
  try {
    chain = certificatesIn(secret.x509SVID, 'x509SVID');
  } catch (error) {
    return [fail('certificate', (error as Error).message)];
  }
  const [nodeLeaf, ...intermediates] = chain as [X509Certificate, ...X509Certificate[]];
  const leaf = new x509.X509Certificate(nodeLeaf.raw);
  return [
    spiffeIdCheck(nodeLeaf, stored, secret, options.trustDomain),
    outcome(
      'leaf profile',
      leafViolations(leaf),
      'CA:false, critical key usage with digitalSignature, EKU serverAuth and clientAuth',
    ),
    await chainCheck(leaf, intermediates, secret.bundle, options.now),
    outcome(
      'private key',
      keyPairViolations(nodeLeaf, secret.x509SVIDKey),
      "the private key signs what the certificate's public key verifies",
    ),
    expiryCheck(leaf, options),
    tagsCheck(leaf, stored),
  ];
}

const fail = (check: string, detail: string): SvidCheck => ({ check, result: 'fail', detail });

const outcome = (check: string, violations: string[], passed: string): SvidCheck =>
  violations.length > 0 ? fail(check, violations.join('; ')) : { check, result: 'pass', detail: passed };

/** The one URI SAN, the secret's spiffeID and the tag name one ID, in the deployment's trust domain. */
function spiffeIdCheck(
  leaf: X509Certificate,
  stored: SvidTags,
  secret: SpireSvidSecret,
  trustDomain: string,
): SvidCheck {
  const violations = uriSanViolations(leaf, stored.spiffeId);
  if (secret.spiffeID !== stored.spiffeId) {
    violations.push(
      `the secret's spiffeID is ${secret.spiffeID || '(empty)'}, its tag says ${stored.spiffeId}`,
    );
  }
  try {
    const domain = parseSpiffeId(stored.spiffeId).trustDomain;
    if (domain !== trustDomain) violations.push(`its trust domain is ${domain}, expected ${trustDomain}`);
  } catch (error) {
    violations.push(`its tag is not a SPIFFE ID: ${(error as Error).message}`);
  }
  return outcome(
    'SPIFFE ID',
    violations,
    `${stored.spiffeId} is the one URI SAN, the secret's spiffeID and the tag, in trust domain ${trustDomain}`,
  );
}

async function chainCheck(
  leaf: x509.X509Certificate,
  intermediates: X509Certificate[],
  bundle: string,
  now: Date,
): Promise<SvidCheck> {
  let roots: string[];
  try {
    roots = certificatesIn(bundle, 'bundle').map((root) => root.toString());
  } catch (error) {
    return fail('chain to bundle', (error as Error).message);
  }
  const violations = await chainViolations(
    leaf,
    roots,
    intermediates.map((c) => c.toString()),
    now,
  );
  return outcome('chain to bundle', violations, `signed up to a root of the bundle (${roots.length} in it)`);
}

function expiryCheck(leaf: x509.X509Certificate, { now, warnWithinMs }: SvidVerificationOptions): SvidCheck {
  const violations = validityViolations(leaf, now, 'the certificate');
  if (violations.length > 0) return fail('expiry', violations.join('; '));
  const left = leaf.notAfter.getTime() - now.getTime();
  const until = `valid until ${leaf.notAfter.toISOString()}, ${formatDuration(left)} left`;
  if (left <= warnWithinMs) {
    return {
      check: 'expiry',
      result: 'warn',
      detail: `${until}: within ${formatDuration(warnWithinMs)}, so the rotation has not renewed it`,
    };
  }
  return { check: 'expiry', result: 'pass', detail: until };
}

/** The serial and notAfter tags are what rotation decides by and status shows: they must be this certificate's. */
function tagsCheck(leaf: x509.X509Certificate, stored: SvidTags): SvidCheck {
  const violations: string[] = [];
  const serial = normalizedSerial(leaf.serialNumber);
  if (normalizedSerial(stored.serial) !== serial) {
    violations.push(`the serial tag is ${stored.serial || '(none)'}, the certificate's serial ${serial}`);
  }
  if (Date.parse(stored.notAfter) !== leaf.notAfter.getTime()) {
    violations.push(
      `the not-after tag is ${stored.notAfter || '(none)'}, the certificate's ${leaf.notAfter.toISOString()}`,
    );
  }
  return outcome('tags', violations, "the serial and not-after tags are the certificate's");
}

const normalizedSerial = (serial: string) => serial.toLowerCase().replace(/^0+(?=.)/, '');
