import 'reflect-metadata';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import { createSvidKeyAndCsr } from '../../../../functions/shared/domain/svid-key';
import { SVID_SUBJECT } from '../../../../functions/shared/domain/svid-profile';

const spiffeId = 'spiffe://example.org/prod/payments';

describe('createSvidKeyAndCsr', () => {
  it('makes a PKCS#10 CSR signed by its own P-256 key, with the SVID subject and the SPIFFE ID as its one SAN', async () => {
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    expect(await csr.verify()).toBe(true);
    expect(csr.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(csr.subject).toBe(SVID_SUBJECT);
    expect(csr.extensions).toHaveLength(1);
    const san = new x509.SubjectAlternativeNameExtension(csr.extensions[0]?.rawData ?? new ArrayBuffer(0));
    expect(san.names.items.map((n) => [n.type, n.value])).toEqual([['url', spiffeId]]);
    const key = createPrivateKey(privateKeyPem);
    expect(key.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(
      createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(Buffer.from(csr.publicKey.rawData)),
    ).toBe(true);
  });

  it('writes the private key byte for byte as OpenSSL writes PKCS#8, whatever its numbers', async () => {
    // Over 64 keys, a coordinate with leading zero bytes (which must keep them) comes up about half the time.
    for (let i = 0; i < 64; i++) {
      const { privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
      expect(createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'pem' })).toBe(privateKeyPem);
    }
  });

  it('gives each call a key of its own', async () => {
    const [a, b] = await Promise.all([createSvidKeyAndCsr(spiffeId), createSvidKeyAndCsr(spiffeId)]);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
  });

  it('refuses what is not a SPIFFE ID, and puts no key in the CSR', async () => {
    await expect(createSvidKeyAndCsr('https://example.org/prod/payments')).rejects.toThrow();
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const d = createPrivateKey(privateKeyPem).export({ format: 'jwk' }).d ?? '';
    const csrDer = Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).rawData);
    expect(csrDer.includes(Buffer.from(d, 'base64url'))).toBe(false);
  });
});
