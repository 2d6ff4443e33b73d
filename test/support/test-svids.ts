import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca/software-ca';
import { encodeSpireSvidSecret, type SpireSvidSecret } from '../../client/spiffe/spire-secret';

/** Test CAs issuing real X509-SVIDs, written as the SPIRE secret value the client reads. */
export class TestTrustDomains {
  private constructor(
    private readonly dir: string,
    private readonly cas: Map<string, SoftwareCertificateAuthority>,
  ) {}

  /** One CA per name; `trustDomain` is what it signs (a rogue CA may sign another's domain). */
  static async create(cas: Record<string, string>): Promise<TestTrustDomains> {
    const dir = await mkdtemp(join(tmpdir(), 'svid-client-'));
    const opened = new Map<string, SoftwareCertificateAuthority>();
    for (const [name, trustDomain] of Object.entries(cas)) {
      opened.set(name, await SoftwareCertificateAuthority.open(join(dir, name), trustDomain));
    }
    return new TestTrustDomains(dir, opened);
  }

  async bundle(ca: string): Promise<string> {
    return pem(await this.ca(ca).bundle());
  }

  /**
   * An SVID secret issued by `ca`, valid 24 h from `notBefore` (default a minute ago), as SPIRE's
   * aws_secretsmanager store fills it: that CA's bundle (left out with `bundle: false`), and
   * `federatedBundles` keyed `spiffe://<trust domain>` for each of `federated` (trust domain → CA name).
   */
  async secret(
    ca: string,
    spiffeId: string,
    options: { notBefore?: Date; federated?: Record<string, string>; bundle?: boolean } = {},
  ): Promise<SpireSvidSecret> {
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const { certificatePem, chainPem } = await this.ca(ca).issue({
      csrPem,
      spiffeId,
      notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    });
    const federatedBundles: Record<string, string> = {};
    for (const [domain, name] of Object.entries(options.federated ?? {})) {
      federatedBundles[`spiffe://${domain}`] = await this.bundle(name);
    }
    return {
      spiffeID: spiffeId,
      x509SVID: pem([certificatePem, ...chainPem]),
      x509SVIDKey: pem([privateKeyPem]),
      // Empty: the encoder leaves it out, as SPIRE's omitempty does.
      bundle: options.bundle === false ? '' : await this.bundle(ca),
      federatedBundles,
    };
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private ca(name: string): SoftwareCertificateAuthority {
    const ca = this.cas.get(name);
    if (!ca) throw new Error(`no test CA ${name}`);
    return ca;
  }
}

/** PEM blocks as Go's pem.EncodeToMemory writes them: each ends with a newline. */
const pem = (blocks: string[]): string => blocks.map((b) => (b.endsWith('\n') ? b : `${b}\n`)).join('');

/** The bytes SPIRE stores as SecretBinary (Go json.Marshal form: empty fields omitted, keys sorted). */
export const secretBinary = (secret: SpireSvidSecret): Uint8Array => encodeSpireSvidSecret(secret);

/** The same value as text, for SecretString and for tests that edit the JSON. */
export const secretText = (secret: SpireSvidSecret): string => new TextDecoder().decode(secretBinary(secret));
