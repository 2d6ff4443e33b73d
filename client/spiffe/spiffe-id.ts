/**
 * SPIFFE IDs by the SPIFFE-ID spec: `spiffe://<trust domain>[/<path>]`, lowercase trust domain, no empty, `.` or
 * `..` segments. The one parser of the project: the function-side client reads peers and secrets with it, and
 * trust-bridge's domain issues with it under ACM PCA's shorter limit.
 */

/** How long a SPIFFE ID may be, and whose rule that is (the error names it). */
export interface SpiffeIdLimit {
  maxLength: number;
  source: string;
}

/** The SPIFFE-ID spec's own limit for a URI SAN. */
export const SPIFFE_SPEC_LIMIT: SpiffeIdLimit = { maxLength: 2048, source: 'SPIFFE-ID spec limit' };

/** A SPIFFE ID breaks the SPIFFE rules or a length limit; the message says which. */
export class InvalidSpiffeId extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface SpiffeId {
  trustDomain: string;
  /** Path segments, without slashes; empty for the trust domain's own ID. */
  path: string[];
}

const SCHEME = 'spiffe://';
const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_SEGMENT_CHAR = /^[a-zA-Z0-9._-]$/;

/** Parses a SPIFFE ID; throws InvalidSpiffeId saying what is wrong. */
export function parseSpiffeId(id: string, limit: SpiffeIdLimit = SPIFFE_SPEC_LIMIT): SpiffeId {
  const parsed = read(id, limit);
  if (typeof parsed === 'string') throw new InvalidSpiffeId(`invalid SPIFFE ID ${quote(id)}: ${parsed}`);
  return parsed;
}

/** The trust domain of a SPIFFE ID that names a workload (it has a path); undefined for anything else. */
export function trustDomainOf(id: string): string | undefined {
  const parsed = read(id, SPIFFE_SPEC_LIMIT);
  return typeof parsed !== 'string' && parsed.path.length > 0 ? parsed.trustDomain : undefined;
}

/**
 * The trust domain a federatedBundles key names: `spiffe://example.org` as SPIRE writes it, or a bare
 * `example.org` (go-spiffe's TrustDomainFromString takes both); undefined for anything else.
 */
export function trustDomainNamed(key: string): string | undefined {
  const parsed = read(key.startsWith(SCHEME) ? key : `${SCHEME}${key}`, SPIFFE_SPEC_LIMIT);
  return typeof parsed !== 'string' && parsed.path.length === 0 ? parsed.trustDomain : undefined;
}

/** Whether `id` is a SPIFFE ID, a trust domain's own or a workload's. */
export const isSpiffeId = (id: string): boolean => typeof read(id, SPIFFE_SPEC_LIMIT) !== 'string';

/** Whether `segment` can be one segment of a SPIFFE ID's path. */
export function isPathSegment(segment: string): boolean {
  const parsed = read(`${SCHEME}x/${segment}`, SPIFFE_SPEC_LIMIT);
  return typeof parsed !== 'string' && parsed.path.length === 1;
}

/** Quotes untrusted text for a message, cut short so garbage cannot flood a log line. */
export function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(shown);
}

/** The parsed ID, or what is wrong with it. */
function read(id: string, limit: SpiffeIdLimit): SpiffeId | string {
  if (typeof id !== 'string' || id === '') return 'it is empty';
  if (id.length > limit.maxLength) {
    return `it is ${id.length} characters long; at most ${limit.maxLength} are allowed (${limit.source})`;
  }
  if (!id.startsWith(SCHEME)) return `it must start with "${SCHEME}" (lowercase scheme)`;
  const rest = id.slice(SCHEME.length);
  if (rest.includes('?')) return 'a query ("?") is not allowed';
  if (rest.includes('#')) return 'a fragment ("#") is not allowed';

  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (trustDomain === '') return 'the trust domain is missing';
  if (trustDomain.includes('@')) return 'userinfo ("@") is not allowed in the trust domain';
  if (trustDomain.includes(':')) return 'a port (":") is not allowed in the trust domain';
  const wrong = [...trustDomain].find((c) => !TRUST_DOMAIN_CHAR.test(c));
  if (wrong !== undefined) {
    return /[A-Z]/.test(wrong)
      ? `the trust domain must be lowercase (found ${quote(wrong)})`
      : `the trust domain has a character ${quote(wrong)}; only a-z, 0-9, ".", "-" and "_" are allowed`;
  }

  if (slash === -1) return { trustDomain, path: [] };
  const segments = rest.slice(slash + 1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment === '') {
      return i === segments.length - 1
        ? 'it ends with a trailing slash'
        : 'the path has an empty segment ("//")';
    }
    if (segment === '.' || segment === '..') return `the path has a ${quote(segment)} segment`;
    const bad = [...segment].find((c) => !PATH_SEGMENT_CHAR.test(c));
    if (bad !== undefined) {
      return `path segment ${quote(segment)} has a character ${quote(bad)}; only letters, digits, ".", "-" and "_" are allowed`;
    }
  }
  return { trustDomain, path: segments };
}
