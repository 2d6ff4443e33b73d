import {
  InvalidSpiffeId,
  isPathSegment,
  parseSpiffeId as parseBySpiffeRules,
  quote,
  type SpiffeId,
  type SpiffeIdLimit,
} from '../../../client/spiffe/spiffe-id';

/** ACM PCA refuses longer URI SANs; the SPIFFE spec itself allows 2048. */
export const SPIFFE_ID_MAX_LENGTH = 253;
const ACM_PCA_LIMIT: SpiffeIdLimit = { maxLength: SPIFFE_ID_MAX_LENGTH, source: 'ACM PCA URI SAN limit' };

const PLACEHOLDER = /\{([^{}]*)\}/g;

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
    if (!isPathSegment(value)) {
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

/**
 * Parses a SPIFFE ID that trust-bridge can issue: the SPIFFE rules, and at most 253 characters for ACM PCA.
 * Throws InvalidSpiffeId saying what is wrong.
 */
export const parseSpiffeId = (id: string): SpiffeId => parseBySpiffeRules(id, ACM_PCA_LIMIT);
