import { X509Certificate } from 'node:crypto';
import { InvalidSvidClientOption, PeerNotAuthorized } from './errors';

/** The SPIFFE-ID spec's limit for a URI SAN. */
const MAX_LENGTH = 2048;
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[a-zA-Z0-9._-]+)*)$/;
/** A trust domain's own ID, `spiffe://example.org`: only as the stem of `spiffe://example.org/*`. */
const TRUST_DOMAIN_ID = /^spiffe:\/\/[a-z0-9._-]+$/;

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/**
 * The trust domain a federatedBundles key names: `spiffe://example.org` as SPIRE writes it, or a bare
 * `example.org` (go-spiffe's TrustDomainFromString takes both); undefined for anything else.
 */
export function trustDomainNamed(key: string): string | undefined {
  const name = key.startsWith('spiffe://') ? key.slice('spiffe://'.length) : key;
  return name.length <= MAX_LENGTH && TRUST_DOMAIN.test(name) ? name : undefined;
}

/** The trust domain of a SPIFFE ID that names a workload, or undefined when `id` is not one. */
export function trustDomainOf(id: string): string | undefined {
  if (id.length > MAX_LENGTH) return undefined;
  const match = SPIFFE_ID.exec(id);
  if (!match || !match[2]) return undefined;
  if (match[2].split('/').some((segment) => segment === '.' || segment === '..')) return undefined;
  return match[1];
}

/**
 * Who may be the peer: exact SPIFFE IDs, and `spiffe://<trust domain>/<path>/*` for any workload
 * below that path (`spiffe://example.org/*` for any workload of the trust domain).
 */
export class SpiffeIdAllowList {
  readonly #exact = new Set<string>();
  /** Each prefix ends with a slash, so `/prod/*` never admits `/production`. */
  readonly #prefixes: string[] = [];
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    if (entries.length === 0) {
      throw new InvalidSvidClientOption('the SPIFFE ID allow-list is empty: it would refuse every peer');
    }
    for (const entry of entries) {
      const below = entry.endsWith('/*') ? entry.slice(0, -2) : undefined;
      if (
        below === undefined ? !trustDomainOf(entry) : !TRUST_DOMAIN_ID.test(below) && !trustDomainOf(below)
      ) {
        throw new InvalidSvidClientOption(
          `allow-list entry ${JSON.stringify(entry.slice(0, 100))} is neither a SPIFFE ID ` +
            '(spiffe://trust.domain/path) nor one followed by "/*"',
        );
      }
      if (below === undefined) this.#exact.add(entry);
      else this.#prefixes.push(`${below}/`);
    }
    this.entries = [...entries];
  }

  allows(id: string): boolean {
    return this.#exact.has(id) || this.#prefixes.some((prefix) => id.startsWith(prefix));
  }

  /** Trust domains an allowed ID can belong to (a peer from any other is refused before its path is read). */
  get trustDomains(): Set<string> {
    return new Set(this.entries.map((entry) => entry.slice('spiffe://'.length).split('/')[0] as string));
  }
}

/**
 * The SPIFFE ID an X509-SVID carries: its one URI SAN. Throws PeerNotAuthorized for a certificate with
 * no URI SAN, several, one that is not a workload's SPIFFE ID, or a CA certificate.
 */
export function spiffeIdOf(certificate: X509Certificate | { raw: Buffer }): string {
  const cert = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate.raw);
  if (cert.ca) throw new PeerNotAuthorized('the certificate is a CA certificate, not an X509-SVID');
  const uris = subjectAltNames(cert.subjectAltName ?? '').filter(([type]) => type === 'URI');
  if (uris.length !== 1) {
    throw new PeerNotAuthorized(`the certificate has ${uris.length} URI SANs; an X509-SVID has exactly one`);
  }
  const [[, uri]] = uris as [[string, string]];
  if (!trustDomainOf(uri)) {
    throw new PeerNotAuthorized(
      `the certificate's URI SAN ${JSON.stringify(uri.slice(0, 100))} is not a workload SPIFFE ID`,
    );
  }
  return uri;
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
