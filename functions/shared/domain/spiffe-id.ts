import { InvalidSpiffeId } from './errors';

/** ACM PCA refuses longer URI SANs; the SPIFFE spec itself allows 2048. */
export const SPIFFE_ID_MAX_LENGTH = 253;

const SCHEME = 'spiffe://';
const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_SEGMENT_CHAR = /^[a-zA-Z0-9._-]$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

export interface SpiffeId {
  trustDomain: string;
  /** Path segments, without slashes; empty for the trust domain's own ID. */
  path: string[];
}

export interface SpiffeIdValues {
  trustDomain: string;
  environment: string;
  service: string;
}

/**
 * Fills `{trustDomain}`, `{environment}` and `{service}` into the template. Environment and service
 * must each be one path segment, so a name with a slash cannot pose as another service's path. The
 * result is not parsed here: callers that plan many IDs check each with parseSpiffeId where its
 * failure stops only that one (an ID too long for ACM PCA, say).
 */
export function renderSpiffeId(template: string, values: SpiffeIdValues): string {
  for (const name of ['environment', 'service'] as const) {
    const value = values[name];
    const wrongChar = [...value].find((c) => !PATH_SEGMENT_CHAR.test(c));
    if (value === '' || value === '.' || value === '..' || wrongChar !== undefined) {
      throw new InvalidSpiffeId(
        `${name} ${quote(value)} is not a single SPIFFE path segment (letters, digits, ".", "-", "_"; not "." or "..")`,
      );
    }
  }
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name !== 'trustDomain' && name !== 'environment' && name !== 'service') {
      throw new InvalidSpiffeId(
        `SPIFFE ID template ${quote(template)} has unknown placeholder ${whole}; use {trustDomain}, {environment}, {service}`,
      );
    }
    return values[name];
  });
}

/** Parses a SPIFFE ID by the SPIFFE-ID spec; throws InvalidSpiffeId saying what is wrong. */
export function parseSpiffeId(id: string): SpiffeId {
  const fail = (problem: string): never => {
    throw new InvalidSpiffeId(`invalid SPIFFE ID ${quote(id)}: ${problem}`);
  };
  if (typeof id !== 'string' || id === '') fail('it is empty');
  if (id.length > SPIFFE_ID_MAX_LENGTH) {
    fail(
      `it is ${id.length} characters long; at most ${SPIFFE_ID_MAX_LENGTH} are allowed (ACM PCA URI SAN limit)`,
    );
  }
  if (!id.startsWith(SCHEME)) fail(`it must start with "${SCHEME}" (lowercase scheme)`);
  const rest = id.slice(SCHEME.length);
  if (rest.includes('?')) fail('a query ("?") is not allowed');
  if (rest.includes('#')) fail('a fragment ("#") is not allowed');

  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (trustDomain === '') fail('the trust domain is missing');
  if (trustDomain.includes('@')) fail('userinfo ("@") is not allowed in the trust domain');
  if (trustDomain.includes(':')) fail('a port (":") is not allowed in the trust domain');
  for (const c of trustDomain) {
    if (TRUST_DOMAIN_CHAR.test(c)) continue;
    fail(
      /[A-Z]/.test(c)
        ? `the trust domain must be lowercase (found ${quote(c)})`
        : `the trust domain has a character ${quote(c)}; only a-z, 0-9, ".", "-" and "_" are allowed`,
    );
  }

  if (slash === -1) return { trustDomain, path: [] };
  const segments = rest.slice(slash + 1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '') {
      fail(
        i === segments.length - 1 ? 'it ends with a trailing slash' : 'the path has an empty segment ("//")',
      );
    }
    if (segment === '.' || segment === '..') fail(`the path has a ${quote(segment)} segment`);
    for (const c of segment) {
      if (!PATH_SEGMENT_CHAR.test(c)) {
        fail(
          `path segment ${quote(segment)} has a character ${quote(c)}; only letters, digits, ".", "-" and "_" are allowed`,
        );
      }
    }
  });
  return { trustDomain, path: segments };
}

/** Quotes untrusted text for a message, cut short so garbage cannot flood a log line. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(shown);
}
