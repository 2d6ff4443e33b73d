import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { encodeSpireSvidSecret } from '../../functions/shared/domain/svid-secret';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca';
import type { SpireSvidSecret } from '../../functions/shared/ports/svid-store';

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
    return (await this.ca(ca).bundle()).join('');
  }

  /**
   * An SVID secret issued by `ca`, valid 24 h from `notBefore` (default a minute ago), with that CA's
   * bundle and the named federated bundles (trust domain → CA name).
   */
  async secret(
    ca: string,
    spiffeId: string,
    options: { notBefore?: Date; federated?: Record<string, string> } = {},
  ): Promise<SpireSvidSecret> {
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const { certificatePem } = await this.ca(ca).issue({
      csrPem,
      spiffeId,
      notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    });
    const federatedBundles: Record<string, string> = {};
    for (const [domain, name] of Object.entries(options.federated ?? {})) {
      federatedBundles[domain] = await this.bundle(name);
    }
    return {
      spiffeID: spiffeId,
      x509SVID: certificatePem,
      x509SVIDKey: privateKeyPem,
      bundle: await this.bundle(ca),
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

/** The bytes trust-bridge stores as SecretBinary (Go json.Marshal form). */
export const secretBinary = (secret: SpireSvidSecret): Uint8Array => encodeSpireSvidSecret(secret);
