import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CertificateRequestFailed, InvalidConfiguration } from '../domain/errors';
import { parseSpiffeId } from '../domain/spiffe-id';
import {
  SVID_KEY_ALGORITHM,
  SVID_SIGNATURE_ALGORITHM,
  SVID_SUBJECT,
  svidExtensions,
  svidValidity,
} from '../domain/svid-profile';
import { spiffeIdOf } from '../domain/svid-rules';
import type { CertificateAuthority, IssuedCertificate, SigningRequest } from '../ports/certificate-authority';

const ROOT_KEY_FILE = 'root.key';
const ROOT_CERT_FILE = 'root.pem';
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/**
 * ACM Private CA's stand-in at home: a self-signed ECDSA P-256 root kept in a directory, issuing
 * X509-SVIDs by the same profile as the PCA passthrough template. Like PCA with that template, it
 * takes only the public key from the CSR; the SAN comes from the request.
 */
export class SoftwareCertificateAuthority implements CertificateAuthority {
  #issueCalls = 0;

  private constructor(
    private readonly trustDomain: string,
    private readonly root: x509.X509Certificate,
    private readonly rootKey: webcrypto.CryptoKey,
    private readonly rootKeyIdHex: string,
  ) {}

  /** Loads the root from `dir`, or creates it there the first time (key readable by its owner only). */
  static async open(dir: string, trustDomain: string): Promise<SoftwareCertificateAuthority> {
    const rootDomain = parseSpiffeId(`spiffe://${trustDomain}`).trustDomain;
    const [keyPem, certPem] = await Promise.all([
      readIfPresent(join(dir, ROOT_KEY_FILE)),
      readIfPresent(join(dir, ROOT_CERT_FILE)),
    ]);
    if (keyPem === undefined && certPem === undefined)
      return SoftwareCertificateAuthority.create(dir, rootDomain);
    if (keyPem === undefined || certPem === undefined) {
      throw new InvalidConfiguration(
        `the software CA in ${dir} has only one of ${ROOT_KEY_FILE} and ${ROOT_CERT_FILE}; remove the other to create a new root`,
      );
    }
    const root = new x509.X509Certificate(certPem);
    const rootId = spiffeIdOf(root.rawData);
    if (rootId !== `spiffe://${rootDomain}`) {
      throw new InvalidConfiguration(
        `the software CA in ${dir} is the root of ${rootId}, not of spiffe://${rootDomain}`,
      );
    }
    const rootKey = await crypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(keyPem),
      SVID_KEY_ALGORITHM,
      false,
      ['sign'],
    );
    return new SoftwareCertificateAuthority(rootDomain, root, rootKey, await keyIdHex(root.publicKey));
  }

  private static async create(dir: string, trustDomain: string): Promise<SoftwareCertificateAuthority> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keys = await crypto.subtle.generateKey(SVID_KEY_ALGORITHM, true, ['sign', 'verify']);
    const publicKey = await x509.PublicKey.create(keys.publicKey);
    const rootKeyIdHex = await keyIdHex(publicKey);
    const now = Date.now();
    // What SPIRE's root looks like: CA, may sign certificates and CRLs, named by the trust domain's SPIFFE ID.
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `${SVID_SUBJECT}, CN=trust-bridge local CA ${rootKeyIdHex.slice(0, 16)}`,
      keys,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + ROOT_LIFETIME_MS),
      signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        new x509.SubjectKeyIdentifierExtension(rootKeyIdHex),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
      ],
    });
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
    // 'wx': never overwrite a root another process created meanwhile. The certificate lands by rename, so a
    // crash leaves a key without certificate, which open() reports, never a certificate without key.
    await writeFile(join(dir, ROOT_KEY_FILE), x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), {
      mode: 0o600,
      flag: 'wx',
    });
    const pending = join(dir, `${ROOT_CERT_FILE}.${process.pid}.tmp`);
    await writeFile(pending, root.toString('pem'), { mode: 0o644 });
    await rename(pending, join(dir, ROOT_CERT_FILE));
    return new SoftwareCertificateAuthority(trustDomain, root, keys.privateKey, rootKeyIdHex);
  }

  /** How many times issue() was called, successful or not (benchmarks compare it with PCA quotas). */
  get issueCalls(): number {
    return this.#issueCalls;
  }

  async issue(request: SigningRequest): Promise<IssuedCertificate> {
    this.#issueCalls++;
    let spiffeTrustDomain: string;
    try {
      spiffeTrustDomain = parseSpiffeId(request.spiffeId).trustDomain;
    } catch (error) {
      throw new CertificateRequestFailed(`the SAN was refused: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (spiffeTrustDomain !== this.trustDomain) {
      throw new CertificateRequestFailed(
        `${request.spiffeId} is outside trust domain ${this.trustDomain}; this CA signs only its own`,
      );
    }
    const csr = await verifiedCsr(request.csrPem);
    const validity = svidValidity(request.notBefore);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: SVID_SUBJECT,
      issuer: this.root.subjectName,
      ...validity,
      publicKey: csr.publicKey,
      signingKey: this.rootKey,
      signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
      extensions: await svidExtensions(request.spiffeId, csr.publicKey, this.rootKeyIdHex),
    });
    return { certificatePem: certificate.toString('pem'), chainPem: [] };
  }

  async bundle(): Promise<string[]> {
    return [this.root.toString('pem')];
  }
}

/** ACM PCA answers MalformedCSRException for both cases; so does this CA, as a permanent failure. */
async function verifiedCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw new CertificateRequestFailed(
      `MalformedCSR: not a PKCS#10 CSR in PEM (${(error as Error).message})`,
    );
  }
  if (!(await csr.verify())) {
    throw new CertificateRequestFailed(
      'MalformedCSR: the CSR signature does not verify with its own public key',
    );
  }
  return csr;
}

async function keyIdHex(publicKey: x509.PublicKey): Promise<string> {
  return Buffer.from(await publicKey.getKeyIdentifier()).toString('hex');
}

/** 128 random bits as a positive DER INTEGER: top bit clear, first byte non-zero so the encoding stays minimal. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return Buffer.from(bytes).toString('hex');
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
