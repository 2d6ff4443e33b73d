/**
 * ACM Private CA, as far as moto goes: LocalAcmPca (over the software CA) and moto's ACM PCA, through the SDK
 * commands and through the project's AcmPcaAuthority adapter. On moto the CA is created, its CSR signed with the
 * root template and its certificate imported, so it is ACTIVE like a deployed one.
 *
 * moto 5.2.1 signs every certificate with its own RSA key and SHA-512 and ignores ApiPassthrough, Validity,
 * ValidityNotBefore, SigningAlgorithm and IdempotencyToken (its acmpca/models.py says so for IssueCertificate);
 * with the APIPassthrough template it adds no extension of the template and copies the CSR's SAN instead. The
 * cases below assert AWS's documented profile on the stand-in and name each of moto's departures; the README's
 * contract section lists which existing tests pin those parts of the profile.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  type IssueCertificateCommandInput,
} from '@aws-sdk/client-acm-pca';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import {
  AcmPcaAuthority,
  SVID_TEMPLATE_ARN,
} from '../../functions/shared/ports/certificate-authority/acm-pca-authority';
import type { AcmPcaApi } from '../../functions/shared/aws/clients';
import { CertificateRequestFailed } from '../../functions/shared/domain/errors';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { SVID_LIFETIME_MS } from '../../functions/shared/domain/svid-profile';
import { checkX509Svid } from '../../functions/shared/domain/svid-rules';
import { LocalAcmPca } from '../../local-stack/stand-ins/local-acm-pca';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca/software-ca';
import { inMotoAccount, motoClientConfig, uniqueMotoAccountId } from '../support/moto';
import { activeMotoCertificateAuthority } from '../support/moto-ca';
import { awsOrMotoGap, type BackendKind, CONTRACT_REGION } from './backends';

const TRUST_DOMAIN = 'example.org';
const ID = `spiffe://${TRUST_DOMAIN}/prod/payments`;
const bytes = (s: string) => new TextEncoder().encode(s);

interface PcaBackend {
  kind: BackendKind;
  client: AcmPcaApi;
  caArn: string;
  close(): Promise<void>;
}

const backends: { name: string; open(): Promise<PcaBackend> }[] = [
  {
    name: 'LocalAcmPca',
    async open() {
      const accountId = uniqueMotoAccountId();
      const dir = await mkdtemp(join(tmpdir(), 'contract-pca-'));
      const ca = await SoftwareCertificateAuthority.open(dir, TRUST_DOMAIN);
      const caArn = `arn:aws:acm-pca:${CONTRACT_REGION}:${accountId}:certificate-authority/local`;
      const close = () => rm(dir, { recursive: true, force: true });
      return { kind: 'stand-in', client: new LocalAcmPca(ca, caArn), caArn, close };
    },
  },
  {
    name: 'moto',
    async open() {
      const client = inMotoAccount(
        new ACMPCAClient(motoClientConfig({ region: CONTRACT_REGION })),
        uniqueMotoAccountId(),
      );
      const caArn = await activeMotoCertificateAuthority(client, 'trust-bridge contract CA');
      return { kind: 'moto', client, caArn, close: async () => client.destroy() };
    },
  },
];

/** A call's error: its name and HTTP status (from the hidden raw response when the SDK could not parse it). */
async function failureOf(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await call;
  } catch (error) {
    const e = error as {
      name: string;
      $metadata?: { httpStatusCode?: number };
      $response?: { statusCode?: number };
    };
    return { name: e.name, status: e.$metadata?.httpStatusCode ?? e.$response?.statusCode };
  }
  throw new Error('the call succeeded');
}

describe.each(backends)('ACM PCA contract: $name', ({ open }) => {
  let backend: PcaBackend;
  let authority: AcmPcaAuthority;
  beforeEach(async () => {
    backend = await open();
    authority = new AcmPcaAuthority(backend.client, {
      caArn: backend.caArn,
      pollIntervalMs: 0,
      maxWaitMs: 0,
      sleep: async () => undefined,
    });
  });
  afterEach(() => backend.close());

  /** The IssueCertificate the adapter sends, for the raw cases. */
  const issueInput = (
    csrPem: string,
    extra: Partial<IssueCertificateCommandInput> = {},
  ): IssueCertificateCommandInput => {
    const start = Math.floor(Date.now() / 1000) - 60;
    return {
      CertificateAuthorityArn: backend.caArn,
      Csr: bytes(csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: SVID_TEMPLATE_ARN,
      ApiPassthrough: { Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: ID }] } },
      Validity: { Type: 'ABSOLUTE', Value: start + SVID_LIFETIME_MS / 1000 },
      ValidityNotBefore: { Type: 'ABSOLUTE', Value: start },
      IdempotencyToken: 'contract-token-0123456789abcdef0123',
      ...extra,
    };
  };
  const get = (CertificateArn: string | undefined) =>
    backend.client.send(
      new GetCertificateCommand({ CertificateAuthorityArn: backend.caArn, CertificateArn }),
    );

  test('the adapter issues and gets a certificate for the CSR key, signed by the CA that bundle() names', async () => {
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(ID);
    const notBefore = new Date(Date.now() - 60_000);
    const issued = await authority.issue({ csrPem, spiffeId: ID, notBefore });
    const bundle = await authority.bundle();
    expect(bundle).toHaveLength(1);
    expect(issued.chainPem).toEqual([]);

    const cert = new x509.X509Certificate(issued.certificatePem);
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    const root = new x509.X509Certificate(bundle[0] as string);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
    expect(cert.issuer).toBe(root.subject);
    expect(await cert.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
    expect(await root.isSelfSigned()).toBe(true);

    // The SAN: from ApiPassthrough on AWS; moto copies the CSR's, which carries the same SPIFFE ID.
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'url', value: ID },
    ]);

    const violations = await checkX509Svid(issued.certificatePem, {
      expectedSpiffeId: ID,
      bundlePem: bundle,
      privateKeyPem,
    });
    if (awsOrMotoGap(backend.kind, 'acmpca.passthrough-template-ignored', { aws: true, moto: false })) {
      expect(violations).toEqual([]);
    } else {
      // No template extensions: no basic constraints, key usage or extended key usage.
      expect(violations.length).toBeGreaterThan(0);
      expect(cert.getExtension(x509.BasicConstraintsExtension)).toBeNull();
      expect(cert.getExtension(x509.KeyUsagesExtension)).toBeNull();
    }
  });

  test('Validity and ValidityNotBefore set the certificate’s dates (24 hours from the given start)', async () => {
    const { csrPem } = await createSvidKeyAndCsr(ID);
    const input = issueInput(csrPem);
    const { CertificateArn } = await backend.client.send(new IssueCertificateCommand(input));
    const cert = new x509.X509Certificate((await get(CertificateArn)).Certificate as string);
    const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
    if (awsOrMotoGap(backend.kind, 'acmpca.validity-ignored', { aws: true, moto: false })) {
      expect(cert.notBefore.getTime()).toBe(Number(input.ValidityNotBefore?.Value) * 1000);
      expect(lifetime).toBe(SVID_LIFETIME_MS);
    } else {
      expect(lifetime).toBe(365 * 24 * 3600 * 1000);
    }
  });

  test('SigningAlgorithm: the CA signs with ECDSA SHA-256 as asked', async () => {
    const { csrPem } = await createSvidKeyAndCsr(ID);
    const { CertificateArn } = await backend.client.send(new IssueCertificateCommand(issueInput(csrPem)));
    const cert = new x509.X509Certificate((await get(CertificateArn)).Certificate as string);
    const algorithm = cert.signatureAlgorithm as { name: string; hash?: { name: string } };
    expect({ name: algorithm.name, hash: algorithm.hash?.name }).toEqual(
      awsOrMotoGap(backend.kind, 'acmpca.signing-algorithm-ignored', {
        aws: { name: 'ECDSA', hash: 'SHA-256' },
        moto: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
      }),
    );
  });

  test('ApiPassthrough, not the CSR, gives the SAN with the APIPassthrough template', async () => {
    const { csrPem } = await createSvidKeyAndCsr(`spiffe://${TRUST_DOMAIN}/prod/from-the-csr`);
    const { CertificateArn } = await backend.client.send(new IssueCertificateCommand(issueInput(csrPem)));
    const cert = new x509.X509Certificate((await get(CertificateArn)).Certificate as string);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      {
        type: 'url',
        value: awsOrMotoGap(backend.kind, 'acmpca.passthrough-template-ignored', {
          aws: ID,
          moto: `spiffe://${TRUST_DOMAIN}/prod/from-the-csr`,
        }),
      },
    ]);
  });

  test('the same IdempotencyToken answers the certificate already issued', async () => {
    const { csrPem } = await createSvidKeyAndCsr(ID);
    const input = issueInput(csrPem);
    const first = await backend.client.send(new IssueCertificateCommand(input));
    const again = await backend.client.send(new IssueCertificateCommand(input));
    const same = awsOrMotoGap(backend.kind, 'acmpca.idempotency-token-ignored', { aws: true, moto: false });
    expect(again.CertificateArn === first.CertificateArn).toBe(same);
  });

  describe('errors and how the adapter maps them', () => {
    test('an unknown CA ARN is ResourceNotFoundException, a permanent CertificateRequestFailed', async () => {
      const { csrPem } = await createSvidKeyAndCsr(ID);
      const otherCa = `${backend.caArn.slice(0, -6)}ffffff`;
      await expect(
        backend.client.send(
          new IssueCertificateCommand(issueInput(csrPem, { CertificateAuthorityArn: otherCa })),
        ),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      const elsewhere = new AcmPcaAuthority(backend.client, { caArn: otherCa, sleep: async () => undefined });
      await expect(elsewhere.issue({ csrPem, spiffeId: ID, notBefore: new Date() })).rejects.toBeInstanceOf(
        CertificateRequestFailed,
      );
      await expect(elsewhere.bundle()).rejects.toBeInstanceOf(CertificateRequestFailed);
    });

    test('a CSR that does not parse is MalformedCSRException at IssueCertificate, a permanent failure', async () => {
      const garbage = '-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n';
      const raw = await failureOf(backend.client.send(new IssueCertificateCommand(issueInput(garbage))));
      expect(raw).toMatchObject(
        awsOrMotoGap(backend.kind, 'acmpca.malformed-csr-500', {
          aws: { name: 'MalformedCSRException', status: 400 },
          // The SDK cannot parse moto's HTML error page: a SyntaxError carrying the 500.
          moto: { name: 'SyntaxError', status: 500 },
        }),
      );
      // Either way the adapter gives up rather than retrying (a real 500 from AWS would be retried: CaThrottled).
      await expect(
        authority.issue({ csrPem: garbage, spiffeId: ID, notBefore: new Date() }),
      ).rejects.toBeInstanceOf(CertificateRequestFailed);
    });

    test('GetCertificate of a certificate never issued is ResourceNotFoundException', async () => {
      const failure = await failureOf(get(`${backend.caArn}/certificate/0123456789abcdef0123456789abcdef`));
      expect(failure).toMatchObject(
        awsOrMotoGap(backend.kind, 'acmpca.unknown-certificate-500', {
          aws: { name: 'ResourceNotFoundException', status: 400 },
          moto: { name: 'SyntaxError', status: 500 },
        }),
      );
    });

    test('a fresh certificate is there at the first GetCertificate: neither backend answers RequestInProgressException', async () => {
      // AWS may answer RequestInProgressException until the certificate is signed; the adapter's polling for it
      // is covered over aws-sdk-client-mock (test/functions/shared/ports/certificate-authority/acm-pca-authority.test.ts).
      const { csrPem } = await createSvidKeyAndCsr(ID);
      const { CertificateArn } = await backend.client.send(new IssueCertificateCommand(issueInput(csrPem)));
      await expect(get(CertificateArn)).resolves.toMatchObject({
        Certificate: expect.stringContaining('BEGIN CERTIFICATE'),
      });
    });
  });
});
