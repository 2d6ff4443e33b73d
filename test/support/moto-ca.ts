/** An ACM Private CA in moto made ACTIVE as on AWS: its own CSR signed with the root template, then imported. */
import {
  type ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';

const ROOT_TEMPLATE = 'arn:aws:acm-pca:::template/RootCACertificate/V1';
const bytes = (s: string) => new TextEncoder().encode(s);

export async function activeMotoCertificateAuthority(
  client: ACMPCAClient,
  commonName: string,
): Promise<string> {
  const created = await client.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'EC_prime256v1',
        SigningAlgorithm: 'SHA256WITHECDSA',
        Subject: { Organization: 'trust-bridge', CommonName: commonName },
      },
    }),
  );
  const caArn = created.CertificateAuthorityArn as string;
  const { Csr } = await client.send(
    new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }),
  );
  const rootIssued = await client.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: caArn,
      Csr: bytes(Csr as string),
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: ROOT_TEMPLATE,
      Validity: { Type: 'YEARS', Value: 10 },
    }),
  );
  const root = await client.send(
    new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: rootIssued.CertificateArn }),
  );
  await client.send(
    new ImportCertificateAuthorityCertificateCommand({
      CertificateAuthorityArn: caArn,
      Certificate: bytes(root.Certificate as string),
    }),
  );
  return caArn;
}
