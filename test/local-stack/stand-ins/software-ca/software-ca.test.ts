import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import { CertificateRequestFailed, InvalidConfiguration } from '../../../../functions/shared/domain/errors';
import { createSvidKeyAndCsr } from '../../../../functions/shared/domain/svid-key';
import { SVID_SIGNATURE_ALGORITHM, SVID_SUBJECT } from '../../../../functions/shared/domain/svid-profile';
import { checkX509Svid } from '../../../../functions/shared/domain/svid-rules';
import { SoftwareCertificateAuthority } from '../../../../local-stack/stand-ins/software-ca/software-ca';

const spiffeId = 'spiffe://example.org/prod/payments';

let base: string;
let dir: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'software-ca-'));
  dir = join(base, 'ca');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('SoftwareCertificateAuthority.open', () => {
  it('creates a root whose key only its owner can read', async () => {
    await SoftwareCertificateAuthority.open(dir, 'example.org');
    expect((await stat(join(dir, 'root.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, 'root.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('makes a root like SPIRE: self-signed CA named by the trust domain', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const [rootPem] = await ca.bundle();
    expect(rootPem).toBe(await readFile(join(dir, 'root.pem'), 'utf8'));
    const root = new x509.X509Certificate(rootPem as string);
    expect(await root.isSelfSigned()).toBe(true);
    expect(root.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, critical: true });
    const keyUsage = root.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect((keyUsage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
    expect((keyUsage?.usages ?? 0) & x509.KeyUsageFlags.cRLSign).toBeTruthy();
    expect(root.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'url', value: 'spiffe://example.org' },
    ]);
    expect(root.notAfter.getTime() - Date.now()).toBeGreaterThan(5 * 365 * 24 * 3600 * 1000);
  });

  it('keeps the same root when reopened, and both instances trust each other', async () => {
    const first = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const second = await SoftwareCertificateAuthority.open(dir, 'example.org');
    expect(await second.bundle()).toEqual(await first.bundle());

    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const issued = await second.issue({ csrPem, spiffeId, notBefore: new Date() });
    expect(
      await checkX509Svid(issued.certificatePem, {
        expectedSpiffeId: spiffeId,
        bundlePem: await first.bundle(),
        privateKeyPem,
      }),
    ).toEqual([]);
  });

  it('refuses a half-written root and a root of another trust domain', async () => {
    await SoftwareCertificateAuthority.open(dir, 'example.org');
    await expect(SoftwareCertificateAuthority.open(dir, 'other.example')).rejects.toThrow(
      /root of spiffe:\/\/example\.org, not of spiffe:\/\/other\.example/,
    );
    await unlink(join(dir, 'root.pem'));
    await expect(SoftwareCertificateAuthority.open(dir, 'example.org')).rejects.toThrow(InvalidConfiguration);
  });

  it('names a damaged key or certificate and what to do, never a decoder error', async () => {
    await SoftwareCertificateAuthority.open(dir, 'example.org');
    const keyFile = join(dir, 'root.key');
    const certFile = join(dir, 'root.pem');
    const [key, cert] = [await readFile(keyFile, 'utf8'), await readFile(certFile, 'utf8')];
    const refusal = () => SoftwareCertificateAuthority.open(dir, 'example.org');
    const whatToDo = `restore it from a backup; or move ${dir} aside to make a new root`;

    await writeFile(keyFile, key.slice(0, key.length / 2));
    await expect(refusal()).rejects.toThrow(InvalidConfiguration);
    await expect(refusal()).rejects.toThrow(
      `${keyFile} is not a readable private key (cut short, or edited?): ${whatToDo}`,
    );
    await expect(refusal()).rejects.not.toThrow(/DECODER/);

    const other = join(base, 'other');
    await SoftwareCertificateAuthority.open(other, 'example.org');
    await writeFile(keyFile, await readFile(join(other, 'root.key'), 'utf8'));
    await expect(refusal()).rejects.toThrow(`${keyFile} is not the key of ${certFile}: ${whatToDo}`);

    await writeFile(keyFile, key);
    await writeFile(certFile, cert.slice(0, 100));
    await expect(refusal()).rejects.toThrow(`${certFile} is not a PEM certificate (cut short, or edited?)`);
  });

  it('refuses an invalid trust domain', async () => {
    await expect(SoftwareCertificateAuthority.open(dir, 'Example.org')).rejects.toThrow(/lowercase/);
  });
});

describe('SoftwareCertificateAuthority.issue', () => {
  it('takes only the public key from the CSR: subject and SAN come from the profile and the request', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=evil',
      keys,
      signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://example.org/prod/admin' }]),
        new x509.BasicConstraintsExtension(true, undefined, true),
      ],
    });
    const issued = await ca.issue({ csrPem: csr.toString('pem'), spiffeId, notBefore: new Date() });
    const cert = new x509.X509Certificate(issued.certificatePem);
    expect(cert.subject).toBe(SVID_SUBJECT);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'url', value: spiffeId },
    ]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
    expect(issued.chainPem).toEqual([]);
  });

  it('checks the CSR signature', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const { csrPem } = await createSvidKeyAndCsr(spiffeId);
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    const at = der.indexOf('payments');
    der.write('paymentz', at);
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await expect(ca.issue({ csrPem: tampered, spiffeId, notBefore: new Date() })).rejects.toThrow(
      /CSR signature does not verify/,
    );
    await expect(ca.issue({ csrPem: 'not a csr', spiffeId, notBefore: new Date() })).rejects.toThrow(
      CertificateRequestFailed,
    );
  });

  it('verifies a CSR of another key type too (RSA), and refuses one signed by another key', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const algorithm = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
    };
    const rsaCsr = async (signer: webcrypto.CryptoKeyPair, owner: webcrypto.CryptoKeyPair) => {
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: SVID_SUBJECT,
        keys: signer,
        signingAlgorithm: algorithm,
      });
      // The signer's signature over a request naming the owner's key: a CSR that does not verify.
      if (signer === owner) return csr.toString('pem');
      const der = Buffer.from(csr.rawData);
      const signerKey = Buffer.from(await crypto.subtle.exportKey('spki', signer.publicKey));
      const ownerKey = Buffer.from(await crypto.subtle.exportKey('spki', owner.publicKey));
      const at = der.indexOf(signerKey);
      ownerKey.copy(der, at);
      return x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    };
    const generate = () =>
      crypto.subtle.generateKey({ ...algorithm, modulusLength: 2048 }, true, ['sign', 'verify']);
    const [own, other] = await Promise.all([generate(), generate()]);
    const issued = await ca.issue({ csrPem: await rsaCsr(own, own), spiffeId, notBefore: new Date() });
    const cert = new x509.X509Certificate(issued.certificatePem);
    expect(Buffer.from(cert.publicKey.rawData)).toEqual(
      Buffer.from(await crypto.subtle.exportKey('spki', own.publicKey)),
    );
    await expect(
      ca.issue({ csrPem: await rsaCsr(own, other), spiffeId, notBefore: new Date() }),
    ).rejects.toThrow(/CSR signature does not verify/);
  });

  it('refuses an invalid SPIFFE ID or one of another trust domain', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const { csrPem } = await createSvidKeyAndCsr(spiffeId);
    await expect(
      ca.issue({ csrPem, spiffeId: 'spiffe://example.org/a/', notBefore: new Date() }),
    ).rejects.toThrow(CertificateRequestFailed);
    await expect(
      ca.issue({ csrPem, spiffeId: 'spiffe://other.example/prod/payments', notBefore: new Date() }),
    ).rejects.toThrow(/outside trust domain example\.org/);
  });

  it('gives every certificate its own serial', async () => {
    const ca = await SoftwareCertificateAuthority.open(dir, 'example.org');
    const { csrPem } = await createSvidKeyAndCsr(spiffeId);
    const serials = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { certificatePem } = await ca.issue({ csrPem, spiffeId, notBefore: new Date() });
      serials.add(new x509.X509Certificate(certificatePem).serialNumber);
    }
    expect(serials.size).toBe(50);
  });
});
