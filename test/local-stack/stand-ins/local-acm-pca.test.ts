import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { describe, expect, test } from '@jest/globals';
import { AcmPcaAuthority } from '../../../functions/shared/ports/certificate-authority/acm-pca-authority';
import { CertificateRequestFailed } from '../../../functions/shared/domain/errors';
import { createSvidKeyAndCsr } from '../../../functions/shared/domain/svid-key';
import { checkX509Svid } from '../../../functions/shared/domain/svid-rules';
import { probeAcmPca } from '../../../bench/acm-pca-probe';
import { LocalAcmPca } from '../../../local-stack/stand-ins/local-acm-pca';
import { SoftwareCertificateAuthority } from '../../../local-stack/stand-ins/software-ca/software-ca';

const CA_ARN = 'arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/local';
const ID = 'spiffe://example.org/prod/payments';

const setup = async () => {
  const ca = await SoftwareCertificateAuthority.open(mkdtempSync(join(tmpdir(), 'pca-')), 'example.org');
  const pca = new LocalAcmPca(ca, CA_ARN);
  return {
    pca,
    calls: probeAcmPca(pca).calls,
    authority: new AcmPcaAuthority(pca, { caArn: CA_ARN, pollIntervalMs: 0 }),
  };
};

describe('the AcmPcaAuthority adapter over the local ACM PCA stand-in', () => {
  test('issues a valid X509-SVID with one IssueCertificate and one GetCertificate', async () => {
    const { calls, authority } = await setup();
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(ID);
    const notBefore = new Date();
    const issued = await authority.issue({ csrPem, spiffeId: ID, notBefore });
    const bundlePem = await authority.bundle();
    expect(
      await checkX509Svid(issued.certificatePem, { expectedSpiffeId: ID, bundlePem, privateKeyPem }),
    ).toEqual([]);
    expect(issued.chainPem).toEqual([]);
    expect(calls).toEqual({
      IssueCertificate: 1,
      GetCertificate: 1,
      GetCertificateAuthorityCertificate: 1,
    });
  });

  test('the same request (same idempotency token) gets the certificate already issued', async () => {
    const { calls, authority } = await setup();
    const { csrPem } = await createSvidKeyAndCsr(ID);
    const notBefore = new Date();
    const first = await authority.issue({ csrPem, spiffeId: ID, notBefore });
    const again = await authority.issue({ csrPem, spiffeId: ID, notBefore });
    expect(again.certificatePem).toBe(first.certificatePem);
    expect(calls.IssueCertificate).toBe(2);
  });

  test('refuses what PCA would refuse: another CA, a non-24 h validity, no URI SAN', async () => {
    const { pca } = await setup();
    const { csrPem } = await createSvidKeyAndCsr(ID);
    const base = {
      CertificateAuthorityArn: CA_ARN,
      Csr: new TextEncoder().encode(csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA' as const,
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1',
      ApiPassthrough: { Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: ID }] } },
      Validity: { Type: 'ABSOLUTE' as const, Value: 1_000_086_400 },
      ValidityNotBefore: { Type: 'ABSOLUTE' as const, Value: 1_000_000_000 },
    };
    await expect(
      pca.send(new IssueCertificateCommand({ ...base, CertificateAuthorityArn: `${CA_ARN}x` })),
    ).rejects.toThrow(/no certificate authority/);
    await expect(
      pca.send(
        new IssueCertificateCommand({ ...base, Validity: { Type: 'ABSOLUTE', Value: 1_000_172_800 } }),
      ),
    ).rejects.toThrow(/24 hours/);
    await expect(pca.send(new IssueCertificateCommand({ ...base, ApiPassthrough: {} }))).rejects.toThrow(
      /URI/,
    );
  });

  test('a CSR for another trust domain fails at GetCertificate as a permanent error', async () => {
    const { authority } = await setup();
    const other = 'spiffe://elsewhere.example/prod/payments';
    const { csrPem } = await createSvidKeyAndCsr(other);
    await expect(authority.issue({ csrPem, spiffeId: other, notBefore: new Date() })).rejects.toBeInstanceOf(
      CertificateRequestFailed,
    );
  });
});
