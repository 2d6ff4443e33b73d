import type { AgentOptions } from 'node:https';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket, TlsOptions } from 'node:tls';
import { InvalidSvidClientOption, PeerNotAuthorized } from './errors';
import { type SpiffeIdAllowList, spiffeIdOf } from './spiffe-id';
import { trustDomainOf } from './spiffe/spiffe-id';
import type { X509Svid } from './x509-svid';

/**
 * Decides whether a TLS peer is a workload on the allow-list, the SPIFFE way: its certificate is an
 * X509-SVID, its chain ends in the bundle of ITS OWN trust domain (so a federated CA cannot speak for
 * ours), and its SPIFFE ID is allowed. Node has already verified the chain against `ca`.
 */
export class PeerAuthorizer {
  /** Trust domain → SHA-256 fingerprints of its bundle's CA certificates. */
  readonly #anchors = new Map<string, Set<string>>();
  /** The CA certificates node:tls verifies peers against: the bundles of the allowed trust domains only. */
  readonly ca: string[] = [];

  constructor(
    svid: X509Svid,
    readonly allowed: SpiffeIdAllowList,
  ) {
    for (const domain of allowed.trustDomains) {
      const bundle = svid.bundles.get(domain);
      if (!bundle) throw new InvalidSvidClientOption(missingBundle(svid, domain));
      this.#anchors.set(domain, new Set(bundle.map((cert) => cert.fingerprint256)));
      this.ca.push(...bundle.map((cert) => cert.toString()));
    }
  }

  /** The peer's SPIFFE ID when it may connect; throws PeerNotAuthorized saying why not. */
  authorize(peer: PeerCertificate | DetailedPeerCertificate): string {
    if (!peer.raw) throw new PeerNotAuthorized('the peer presented no certificate');
    const id = spiffeIdOf(peer);
    const anchors = this.#anchors.get(trustDomainOf(id) as string);
    if (!anchors || !chainEndsIn(peer, anchors)) {
      throw new PeerNotAuthorized(`the peer ${id} is not certified by its trust domain's bundle`);
    }
    if (!this.allowed.allows(id)) throw new PeerNotAuthorized(`the peer ${id} is not on the allow-list`);
    return id;
  }
}

/**
 * https.Agent options that present the SVID and accept a server only when PeerAuthorizer does. SVIDs
 * name workloads, not hosts: the SPIFFE ID check replaces the host name check.
 */
export function mtlsAgentOptions(svid: X509Svid, allowedServers: SpiffeIdAllowList): AgentOptions {
  const authorizer = new PeerAuthorizer(svid, allowedServers);
  return {
    ...svid.tlsCredentials(),
    ca: authorizer.ca,
    checkServerIdentity: (_host, peer) => {
      try {
        authorizer.authorize(peer);
        return undefined;
      } catch (error) {
        return error as Error;
      }
    },
  };
}

export interface MtlsServer {
  /** For https.createServer or tls.createServer: present the SVID, require a client SVID from an allowed trust domain. */
  options: TlsOptions;
  /** The calling workload's SPIFFE ID; throws PeerNotAuthorized (answer 403) when it may not call. */
  authorize(socket: TLSSocket): string;
}

export function mtlsServer(svid: X509Svid, allowedClients: SpiffeIdAllowList): MtlsServer {
  const authorizer = new PeerAuthorizer(svid, allowedClients);
  return {
    options: { ...svid.tlsCredentials(), ca: authorizer.ca, requestCert: true, rejectUnauthorized: true },
    authorize: (socket) => {
      if (!socket.authorized) {
        throw new PeerNotAuthorized(
          `the peer's certificate did not verify (${String(socket.authorizationError)})`,
        );
      }
      return authorizer.authorize(socket.getPeerCertificate(true));
    },
  };
}

/** Why a trust domain the allow-list needs cannot be trusted, naming the field SPIRE would have filled. */
function missingBundle(svid: X509Svid, domain: string): string {
  if (domain === svid.trustDomain) {
    return (
      `the allow-list names our own trust domain ${domain}, but the SVID secret has no bundle ` +
      `(SPIRE leaves it out when it has none), so no peer of ${domain} can be verified`
    );
  }
  const held = [...svid.bundles.keys()];
  return (
    `the allow-list names trust domain ${domain}, but the SVID secret's federatedBundles has no ` +
    `spiffe://${domain}${held.length > 0 ? ` (it has bundles for ${held.join(', ')})` : ''}`
  );
}

/** Whether a certificate above the peer's leaf is one of `anchors`. */
function chainEndsIn(peer: PeerCertificate | DetailedPeerCertificate, anchors: Set<string>): boolean {
  const seen = new Set<string>([peer.fingerprint256]);
  let issuer = 'issuerCertificate' in peer ? peer.issuerCertificate : undefined;
  while (issuer && !seen.has(issuer.fingerprint256)) {
    if (anchors.has(issuer.fingerprint256)) return true;
    seen.add(issuer.fingerprint256);
    issuer = issuer.issuerCertificate;
  }
  return false;
}
