import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { SvidSecretInvalid } from './errors';
import { spiffeIdOf, trustDomainNamed, trustDomainOf } from './spiffe-id';

/** The JSON SPIRE's aws_secretsmanager SVID store writes (and trust-bridge writes the same way). */
const spireSvidSecret = z.object({
  spiffeID: z.string(),
  /** PEM chain, leaf first. */
  x509SVID: z.string(),
  /** PKCS#8 PEM. */
  x509SVIDKey: z.string(),
  /** PEM bundle of the SVID's own trust domain; SPIRE (omitempty) leaves it out when it has none. */
  bundle: z.string().optional(),
  /** `spiffe://<trust domain>` → PEM bundle; left out when empty. */
  federatedBundles: z.record(z.string(), z.string()).optional(),
});

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

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
    let json: unknown;
    try {
      const text =
        typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: true }).decode(value);
      json = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text around the fault: that may be key material, so it is not kept.
      throw new SvidSecretInvalid('the SVID secret is not UTF-8 JSON');
    }
    const parsed = spireSvidSecret.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(value)'}: ${issue.code}`,
      );
      throw new SvidSecretInvalid(`the SVID secret is not a SPIRE SVID secret (${problems.join('; ')})`);
    }
    const secret = parsed.data;
    const trustDomain = trustDomainOf(secret.spiffeID);
    if (!trustDomain) throw new SvidSecretInvalid("the SVID secret's spiffeID is not a workload SPIFFE ID");

    const chain = certificates(secret.x509SVID, 'x509SVID');
    const leaf = chain[0] as X509Certificate;
    let leafId: string;
    try {
      leafId = spiffeIdOf(leaf);
    } catch (error) {
      throw new SvidSecretInvalid(
        `the SVID secret's leaf certificate is not an X509-SVID: ${(error as Error).message}`,
      );
    }
    if (leafId !== secret.spiffeID) {
      throw new SvidSecretInvalid(`the SVID secret's leaf certificate is ${leafId}, not ${secret.spiffeID}`);
    }
    let keyMatches: boolean;
    try {
      keyMatches = leaf.checkPrivateKey(createPrivateKey(secret.x509SVIDKey));
    } catch {
      throw new SvidSecretInvalid("the SVID secret's x509SVIDKey is not a readable PEM private key");
    }
    if (!keyMatches)
      throw new SvidSecretInvalid("the SVID secret's private key is not the leaf certificate's");

    const bundles = new Map<string, X509Certificate[]>();
    // No bundle ("" is what Go reads for an omitted one): only federated peers can be verified, and
    // PeerAuthorizer says so when an allow-list needs our own trust domain.
    if (secret.bundle) bundles.set(trustDomain, certificates(secret.bundle, 'bundle'));
    const keyOf = new Map<string, string>();
    for (const [key, pem] of Object.entries(secret.federatedBundles ?? {})) {
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

/** Each PEM certificate in `pem`, parsed; at least one. */
function certificates(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new SvidSecretInvalid(`the SVID secret's ${field} holds no PEM certificate`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new SvidSecretInvalid(`the SVID secret's ${field} holds a PEM certificate that does not parse`);
    }
  });
}
