import type { X509Certificate } from 'node:crypto';
import { InvalidSvidClientOption, PeerNotAuthorized } from './errors';
import { InvalidSpiffeId, isSpiffeId, trustDomainOf } from './spiffe/spiffe-id';
import { spiffeIdOf as x509SvidSpiffeId } from './spiffe/x509-svid';

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
        // `spiffe://example.org/*` stems from the trust domain's own ID, any other prefix from a workload's.
        below === undefined ? !trustDomainOf(entry) : !isSpiffeId(below)
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
 * The SPIFFE ID an X509-SVID carries: its one URI SAN (spiffe/x509-svid.ts has the rules). Throws
 * PeerNotAuthorized for a certificate with no URI SAN, several, one that is not a workload's SPIFFE ID, or a
 * CA certificate.
 */
export function spiffeIdOf(certificate: X509Certificate | { raw: Buffer }): string {
  try {
    return x509SvidSpiffeId(certificate);
  } catch (error) {
    if (error instanceof InvalidSpiffeId) throw new PeerNotAuthorized(error.message);
    throw error;
  }
}
