import type { X509Certificate } from 'node:crypto';
import { SvidSecretInvalid } from './errors';
import { trustDomainNamed, trustDomainOf } from './spiffe/spiffe-id';
import { certificatesIn, decodeSpireSvidSecret, InvalidSpireSvidSecret } from './spiffe/spire-secret';
import { keyPairViolations, spiffeIdOf } from './spiffe/x509-svid';

/**
 * One workload's X509-SVID with its trust bundles. The private key is held in a private field: it is
 * not enumerable, not in JSON.stringify, not in util.inspect, and only handed to node:tls.
 */
export class X509Svid {
  readonly spiffeId: string;
  readonly trustDomain: string;
  /** PEM chain, leaf first, as presented to peers. */
  readonly certificateChainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * Trust domain name (`example.org`, however the secret keyed it) → its CA certificates: our own
   * bundle first when the secret has one, then each federated one.
   */
  readonly bundles: ReadonlyMap<string, readonly X509Certificate[]>;
  readonly #privateKeyPem: string;

  private constructor(fields: {
    spiffeId: string;
    trustDomain: string;
    certificateChainPem: string;
    privateKeyPem: string;
    notBefore: Date;
    notAfter: Date;
    bundles: Map<string, X509Certificate[]>;
  }) {
    this.spiffeId = fields.spiffeId;
    this.trustDomain = fields.trustDomain;
    this.certificateChainPem = fields.certificateChainPem;
    this.#privateKeyPem = fields.privateKeyPem;
    this.notBefore = fields.notBefore;
    this.notAfter = fields.notAfter;
    this.bundles = fields.bundles;
  }

  /**
   * Reads a SPIRE SVID secret value (SecretBinary bytes or SecretString text). Checks what a TLS stack
   * would not tell clearly: the JSON shape, that the leaf's one URI SAN is `spiffeID`, and that the key
   * is the leaf's. Throws SvidSecretInvalid naming the problem, never the value.
   */
  static fromSecret(value: Uint8Array | string): X509Svid {
    const secret = asSvidSecretInvalid(() => decodeSpireSvidSecret(value));
    const trustDomain = trustDomainOf(secret.spiffeID);
    if (!trustDomain) throw new SvidSecretInvalid("the SVID secret's spiffeID is not a workload SPIFFE ID");

    const chain = certificates(secret.x509SVID, 'x509SVID');
    const leaf = chain[0] as X509Certificate;
    let leafId: string;
    try {
      leafId = spiffeIdOf(leaf);
    } catch (error) {
      throw new SvidSecretInvalid(`the SVID secret's leaf: ${(error as Error).message}`);
    }
    if (leafId !== secret.spiffeID) {
      throw new SvidSecretInvalid(`the SVID secret's leaf certificate is ${leafId}, not ${secret.spiffeID}`);
    }
    const [keyProblem] = keyPairViolations(leaf, secret.x509SVIDKey);
    if (keyProblem) throw new SvidSecretInvalid(`the SVID secret's x509SVIDKey: ${keyProblem}`);

    const bundles = new Map<string, X509Certificate[]>();
    // No bundle ("" is what Go reads for an omitted one): only federated peers can be verified, and
    // PeerAuthorizer says so when an allow-list needs our own trust domain.
    if (secret.bundle) bundles.set(trustDomain, certificates(secret.bundle, 'bundle'));
    const keyOf = new Map<string, string>();
    for (const [key, pem] of Object.entries(secret.federatedBundles)) {
      const field = `federatedBundles key ${JSON.stringify(key.slice(0, 100))}`;
      const domain = trustDomainNamed(key);
      if (!domain) {
        throw new SvidSecretInvalid(
          `the SVID secret's ${field} is not a trust domain (spiffe://trust.domain)`,
        );
      }
      const earlier = keyOf.get(domain);
      if (earlier !== undefined) {
        throw new SvidSecretInvalid(
          `the SVID secret's federatedBundles names trust domain ${domain} twice (${JSON.stringify(earlier)} and ${JSON.stringify(key)})`,
        );
      }
      keyOf.set(domain, key);
      // Our own trust domain's CAs come from `bundle` only: a federation entry cannot speak for it.
      if (domain !== trustDomain) bundles.set(domain, certificates(pem, field));
    }
    return new X509Svid({
      spiffeId: secret.spiffeID,
      trustDomain,
      certificateChainPem: chain.map((cert) => cert.toString()).join(''),
      privateKeyPem: secret.x509SVIDKey,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      bundles,
    });
  }

  /** True from notBefore up to, not including, notAfter. */
  isValidAt(time: number): boolean {
    return this.notBefore.getTime() <= time && time < this.notAfter.getTime();
  }

  /** The `cert` and `key` options of node:tls and node:https. */
  tlsCredentials(): { cert: string; key: string } {
    return { cert: this.certificateChainPem, key: this.#privateKeyPem };
  }

  /** What `console.log(svid)` and JSON show: everything public about the SVID, never the key. */
  toJSON(): object {
    return {
      spiffeId: this.spiffeId,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      trustDomains: [...this.bundles.keys()],
    };
  }
}

/** The certificates of a PEM field of the secret; SvidSecretInvalid names the field when there are none. */
const certificates = (pem: string, field: string): X509Certificate[] =>
  asSvidSecretInvalid(() => certificatesIn(pem, field));

/** The SPIRE format's own error, as the client's. */
function asSvidSecretInvalid<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InvalidSpireSvidSecret) throw new SvidSecretInvalid(error.message);
    throw error;
  }
}
