import 'reflect-metadata';
import { createPrivateKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import { InvalidSpiffeId } from '../../../../functions/shared/domain/errors';
import { createSvidKeyAndCsr } from '../../../../functions/shared/domain/svid-key';
import {
  SVID_FIXED_EXTENSIONS,
  SVID_LIFETIME_MS,
  SVID_SIGNATURE_ALGORITHM,
  SVID_SUBJECT,
} from '../../../../functions/shared/domain/svid-profile';
import { signingCertificateSpiffeId, spiffeIdOf } from '../../../../client/spiffe/x509-svid';
import { checkX509Svid } from '../../../../functions/shared/domain/svid-rules';
import { SoftwareCertificateAuthority } from '../../../../local-stack/stand-ins/software-ca/software-ca';

const spiffeId = 'spiffe://example.org/prod/payments';
const requestedNotBefore = new Date('2030-01-01T12:00:00.750Z');
const duringValidity = new Date('2030-01-01T18:00:00Z');

let dir: string;
let ca: SoftwareCertificateAuthority;
let bundlePem: string[];
let svid: { certificatePem: string; privateKeyPem: string; csrPem: string };
let otherCaSvidPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svid-rules-'));
  ca = await SoftwareCertificateAuthority.open(join(dir, 'ca'), 'example.org');
  bundlePem = await ca.bundle();
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const issued = await ca.issue({ csrPem, spiffeId, notBefore: requestedNotBefore });
  svid = { certificatePem: issued.certificatePem, privateKeyPem, csrPem };

  const other = await SoftwareCertificateAuthority.open(join(dir, 'other'), 'example.org');
  otherCaSvidPem = (await other.issue({ csrPem, spiffeId, notBefore: requestedNotBefore })).certificatePem;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an SVID from the software CA', () => {
  it('breaks no X509-SVID rule', async () => {
    expect(
      await checkX509Svid(svid.certificatePem, {
        expectedSpiffeId: spiffeId,
        bundlePem,
        now: duringValidity,
        privateKeyPem: svid.privateKeyPem,
      }),
    ).toEqual([]);
    expect(spiffeIdOf(svid.certificatePem)).toBe(spiffeId);
  });

  it('follows the profile, inspected with @peculiar/x509', async () => {
    const cert = new x509.X509Certificate(svid.certificatePem);
    const root = new x509.X509Certificate(bundlePem[0] as string);
    const csr = new x509.Pkcs10CertificateRequest(svid.csrPem);

    const sans = cert.getExtensions(x509.SubjectAlternativeNameExtension);
    expect(sans).toHaveLength(1);
    expect(sans[0]?.names.toJSON()).toEqual([{ type: 'url', value: spiffeId }]);

    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(false);
    expect(basic?.critical).toBe(true);

    const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect(keyUsage?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);

    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);

    const keyId = Buffer.from(await cert.publicKey.getKeyIdentifier()).toString('hex');
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toBe(keyId);
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );

    // Validity: whole seconds, exactly 24 h.
    expect(cert.notBefore.toISOString()).toBe('2030-01-01T12:00:00.000Z');
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(SVID_LIFETIME_MS);

    // Only the key comes from the CSR; the issuer is the root, the serial a positive 128-bit number.
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
    expect(cert.subject).toBe(SVID_SUBJECT);
    expect(cert.issuer).toBe(root.subject);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(cert.serialNumber).not.toMatch(/^00/);
    expect(await cert.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
  });

  it('is accepted by Node (OpenSSL) as issued by the root and paired with its key', () => {
    const cert = new NodeX509Certificate(svid.certificatePem);
    const root = new NodeX509Certificate(bundlePem[0] as string);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe(`URI:${spiffeId}`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.checkIssued(root)).toBe(true);
    expect(cert.verify(root.publicKey)).toBe(true);
    const key = createPrivateKey(svid.privateKeyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkPrivateKey(key)).toBe(true);
  });
});

describe('checkX509Svid finds each broken rule', () => {
  it('a certificate from another CA does not chain to the bundle', async () => {
    const violations = await checkX509Svid(otherCaSvidPem, { bundlePem, now: duringValidity });
    expect(violations).toEqual([expect.stringMatching(/does not chain to the trust bundle/)]);
  });

  it('a different SPIFFE ID than expected', async () => {
    const violations = await checkX509Svid(svid.certificatePem, {
      expectedSpiffeId: 'spiffe://example.org/prod/orders',
      now: duringValidity,
    });
    expect(violations).toEqual([`its SPIFFE ID is ${spiffeId}, expected spiffe://example.org/prod/orders`]);
  });

  it('a tampered certificate (SAN rewritten after signing) fails the signature check', async () => {
    const der = Buffer.from(new x509.X509Certificate(svid.certificatePem).rawData);
    const at = der.indexOf('payments');
    expect(at).toBeGreaterThan(0);
    der.write('paymentz', at);
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE');
    const violations = await checkX509Svid(tampered, { bundlePem, now: duringValidity });
    expect(violations).toEqual([expect.stringMatching(/does not chain to the trust bundle/)]);
  });

  it('the CA certificate itself is no X509-SVID', async () => {
    const violations = await checkX509Svid(bundlePem[0] as string, { bundlePem, now: duringValidity });
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/has no path/),
        expect.stringMatching(/CA:true/),
        expect.stringMatching(/keyCertSign/),
        expect.stringMatching(/cRLSign/),
      ]),
    );
  });

  it('outside its validity', async () => {
    const cert = new x509.X509Certificate(svid.certificatePem);
    expect(
      await checkX509Svid(svid.certificatePem, { now: new Date(cert.notAfter.getTime() + 1000) }),
    ).toEqual([`the certificate expired at ${cert.notAfter.toISOString()}`]);
    expect(
      await checkX509Svid(svid.certificatePem, { now: new Date(cert.notBefore.getTime() - 1000) }),
    ).toEqual([`the certificate is not valid yet: notBefore ${cert.notBefore.toISOString()}`]);
  });

  it("a private key that is not the certificate's, without quoting the key", async () => {
    const { privateKeyPem: otherKey } = await createSvidKeyAndCsr(spiffeId);
    expect(
      await checkX509Svid(svid.certificatePem, { now: duringValidity, privateKeyPem: otherKey }),
    ).toEqual(["the private key does not match the certificate's public key"]);
    const garbage = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n';
    const violations = await checkX509Svid(svid.certificatePem, {
      now: duringValidity,
      privateKeyPem: garbage,
    });
    expect(violations).toEqual([expect.stringMatching(/not a PKCS#8 PEM ECDSA key/)]);
    expect(violations.join()).not.toContain('c2VjcmV0');
  });

  it('something that is not a certificate', async () => {
    expect(await checkX509Svid('hello')).toEqual([
      expect.stringMatching(/^not an X\.509 certificate in PEM/),
    ]);
  });

  describe('leaf certificates built against the rules', () => {
    const keysPromise = crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);

    async function leaf(extensions: (profile: x509.Extension[]) => x509.Extension[]): Promise<string> {
      const keys = await keysPromise;
      const publicKey = await x509.PublicKey.create(keys.publicKey);
      const profile = [
        ...SVID_FIXED_EXTENSIONS,
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }]),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ];
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        name: SVID_SUBJECT,
        keys,
        notBefore: requestedNotBefore,
        notAfter: new Date(requestedNotBefore.getTime() + SVID_LIFETIME_MS),
        signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
        extensions: extensions(profile),
      });
      return cert.toString('pem');
    }
    const without = (type: string) => (profile: x509.Extension[]) => profile.filter((e) => e.type !== type);
    const replacing = (type: string, by: x509.Extension) => (profile: x509.Extension[]) => [
      ...profile.filter((e) => e.type !== type),
      by,
    ];
    const sanOid = '2.5.29.17';
    const keyUsageOid = '2.5.29.15';
    const ekuOid = '2.5.29.37';

    it.each([
      ['no URI SAN', without(sanOid), /has no URI SAN/],
      [
        'two URI SANs',
        replacing(
          sanOid,
          new x509.SubjectAlternativeNameExtension([
            { type: 'url', value: spiffeId },
            { type: 'url', value: 'spiffe://example.org/prod/orders' },
          ]),
        ),
        /has 2 URI SANs/,
      ],
      [
        'a URI SAN that is no SPIFFE ID',
        replacing(
          sanOid,
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'https://example.org/x' }]),
        ),
        /URI SAN is not a valid SPIFFE ID: .*must start with "spiffe:\/\/"/,
      ],
      ['no key usage', without(keyUsageOid), /has no key usage extension/],
      [
        'a non-critical key usage',
        replacing(keyUsageOid, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, false)),
        /key usage extension is not marked critical/,
      ],
      [
        'a key usage without digitalSignature',
        replacing(keyUsageOid, new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true)),
        /key usage lacks digitalSignature/,
      ],
      [
        'an extended key usage beyond TLS',
        replacing(
          ekuOid,
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
            x509.ExtendedKeyUsage.codeSigning,
          ]),
        ),
        /extended key usage has codeSigning/,
      ],
      [
        'an extended key usage without clientAuth',
        replacing(ekuOid, new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])),
        /extended key usage lacks clientAuth/,
      ],
    ])('%s', async (_name, build, message) => {
      const violations = await checkX509Svid(await leaf(build), { now: duringValidity });
      expect(violations).toEqual([expect.stringMatching(message)]);
    });

    it('accepts a leaf without the optional extended key usage', async () => {
      expect(await checkX509Svid(await leaf(without(ekuOid)), { now: duringValidity })).toEqual([]);
    });

    it('spiffeIdOf refuses a certificate without exactly one URI SAN, and a CA certificate', async () => {
      // The root names its trust domain as a signing certificate may; it is no X509-SVID.
      expect(() => spiffeIdOf(bundlePem[0] as string)).toThrow(
        'the certificate is not an X509-SVID: its SPIFFE ID spiffe://example.org has no path: it names a trust ' +
          'domain, not a workload; it is a CA certificate (basicConstraints CA:true); an X509-SVID leaf must be CA:false',
      );
      expect(signingCertificateSpiffeId(bundlePem[0] as string)).toBe('spiffe://example.org');
      expect(() => signingCertificateSpiffeId(svid.certificatePem)).toThrow(InvalidSpiffeId);
      const two = await leaf(
        replacing(
          sanOid,
          new x509.SubjectAlternativeNameExtension([
            { type: 'url', value: spiffeId },
            { type: 'url', value: 'spiffe://example.org/b' },
          ]),
        ),
      );
      expect(() => spiffeIdOf(two)).toThrow(InvalidSpiffeId);
    });
  });
});
