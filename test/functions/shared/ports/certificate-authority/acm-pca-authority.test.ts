import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import {
  ACMPCAClient,
  ACMPCAServiceException,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  InvalidArgsException,
  IssueCertificateCommand,
  LimitExceededException,
  MalformedCSRException,
  RequestFailedException,
  RequestInProgressException,
  ResourceNotFoundException,
} from '@aws-sdk/client-acm-pca';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AcmPcaAuthority,
  SVID_TEMPLATE_ARN,
} from '../../../../../functions/shared/ports/certificate-authority/acm-pca-authority';
import {
  CaThrottled,
  CertificateNotYetIssued,
  CertificateRequestFailed,
} from '../../../../../functions/shared/domain/errors';
import { createSvidKeyAndCsr } from '../../../../../functions/shared/domain/svid-key';
import {
  SVID_KEY_ALGORITHM,
  SVID_SIGNATURE_ALGORITHM,
} from '../../../../../functions/shared/domain/svid-profile';

const caArn =
  'arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
const certificateArn = `${caArn}/certificate/286535153982981100925020015808220737245`;
const spiffeId = 'spiffe://example.org/prod/payments';
const notBefore = new Date('2030-01-01T12:00:00.750Z');

const pca = mockClient(ACMPCAClient);

/** A two-level PKI like a subordinate PCA's: root → issuing CA → leaf. */
let pki: { rootPem: string; issuingPem: string; leafPem: string };
let csrPem: string;

async function certificate(
  subject: string,
  issuer: string,
  signingKey: webcrypto.CryptoKey,
  publicKey: webcrypto.CryptoKey,
  ca: boolean,
) {
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer,
    publicKey,
    signingKey,
    signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(ca, undefined, true)],
  });
  return cert.toString('pem');
}

beforeAll(async () => {
  const generate = () => crypto.subtle.generateKey(SVID_KEY_ALGORITHM, false, ['sign', 'verify']);
  const [root, issuing, leaf] = await Promise.all([generate(), generate(), generate()]);
  pki = {
    rootPem: await certificate('CN=root', 'CN=root', root.privateKey, root.publicKey, true),
    issuingPem: await certificate('CN=issuing', 'CN=root', root.privateKey, issuing.publicKey, true),
    leafPem: await certificate('O=SPIFFE', 'CN=issuing', issuing.privateKey, leaf.publicKey, false),
  };
  csrPem = (await createSvidKeyAndCsr(spiffeId)).csrPem;
});

let sleeps: number[];
function authority(options: { maxWaitMs?: number; pollIntervalMs?: number } = {}) {
  return new AcmPcaAuthority(new ACMPCAClient({ region: 'us-east-1' }), {
    caArn,
    ...options,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

function awsError(name: string, fault: 'client' | 'server' = 'client') {
  return new ACMPCAServiceException({ name, $fault: fault, $metadata: {}, message: `${name} from the test` });
}

beforeEach(() => {
  pca.reset();
  sleeps = [];
  pca.on(IssueCertificateCommand).resolves({ CertificateArn: certificateArn });
});

describe('AcmPcaAuthority.issue', () => {
  it('asks for the SVID profile through the API passthrough template', async () => {
    pca.on(GetCertificateCommand).resolves({ Certificate: pki.leafPem, CertificateChain: pki.issuingPem });
    await authority().issue({ csrPem, spiffeId, notBefore });

    const [issue] = pca.commandCalls(IssueCertificateCommand);
    const input = issue?.args[0].input;
    const start = Date.parse('2030-01-01T12:00:00Z') / 1000;
    expect(input).toEqual({
      CertificateAuthorityArn: caArn,
      Csr: new TextEncoder().encode(csrPem),
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1',
      ApiPassthrough: { Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: spiffeId }] } },
      Validity: { Type: 'ABSOLUTE', Value: start + 24 * 3600 },
      ValidityNotBefore: { Type: 'ABSOLUTE', Value: start },
      IdempotencyToken: expect.stringMatching(/^[0-9a-f]{36}$/),
    });
    expect(SVID_TEMPLATE_ARN).toBe(input?.TemplateArn);
    expect(pca.commandCalls(GetCertificateCommand)[0]?.args[0].input).toEqual({
      CertificateAuthorityArn: caArn,
      CertificateArn: certificateArn,
    });
  });

  it('derives the idempotency token from the request: same CSR same token, new key new token', async () => {
    pca.on(GetCertificateCommand).resolves({ Certificate: pki.leafPem });
    const ca = authority();
    await ca.issue({ csrPem, spiffeId, notBefore });
    await ca.issue({ csrPem, spiffeId, notBefore: new Date(notBefore.getTime() + 200) });
    const { csrPem: otherCsr } = await createSvidKeyAndCsr(spiffeId);
    await ca.issue({ csrPem: otherCsr, spiffeId, notBefore });

    const tokens = pca
      .commandCalls(IssueCertificateCommand)
      .map((call) => call.args[0].input.IdempotencyToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens[0]?.length).toBeLessThanOrEqual(36);
  });

  it('waits once, then fetches the certificate: one GetCertificate in the common case', async () => {
    pca.on(GetCertificateCommand).resolves({
      Certificate: pki.leafPem,
      CertificateChain: `${pki.issuingPem}\n${pki.rootPem}`,
    });
    const issued = await authority().issue({ csrPem, spiffeId, notBefore });
    expect(sleeps).toEqual([1000]);
    expect(pca.commandCalls(GetCertificateCommand)).toHaveLength(1);
    // The root belongs in the bundle, not in the chain the SVID presents.
    expect(issued).toEqual({ certificatePem: pki.leafPem, chainPem: [pki.issuingPem] });
  });

  it('polls again while the request is in progress', async () => {
    pca
      .on(GetCertificateCommand)
      .rejectsOnce(new RequestInProgressException({ $metadata: {}, message: 'in progress' }))
      .resolves({ Certificate: pki.leafPem, CertificateChain: pki.rootPem });
    const issued = await authority({ pollIntervalMs: 500 }).issue({ csrPem, spiffeId, notBefore });
    expect(sleeps).toEqual([500, 500]);
    expect(pca.commandCalls(GetCertificateCommand)).toHaveLength(2);
    expect(issued).toEqual({ certificatePem: pki.leafPem, chainPem: [] });
  });

  it('gives up with CertificateNotYetIssued once the wait bound is spent', async () => {
    pca
      .on(GetCertificateCommand)
      .rejects(new RequestInProgressException({ $metadata: {}, message: 'in progress' }));
    const issuing = authority({ maxWaitMs: 2500, pollIntervalMs: 1000 }).issue({
      csrPem,
      spiffeId,
      notBefore,
    });
    await expect(issuing).rejects.toThrow(CertificateNotYetIssued);
    await expect(issuing).rejects.toThrow(/after 2500 ms \(RequestInProgressException\)/);
    expect(sleeps).toEqual([1000, 1000, 500]);
    expect(pca.commandCalls(GetCertificateCommand)).toHaveLength(3);
  });

  it('maps throttling and server faults to the retryable CaThrottled', async () => {
    pca.on(IssueCertificateCommand).rejects(awsError('ThrottlingException'));
    const throttled = authority().issue({ csrPem, spiffeId, notBefore });
    await expect(throttled).rejects.toThrow(CaThrottled);
    await expect(throttled).rejects.toMatchObject({
      name: 'CaThrottled',
      message: 'ACM PCA IssueCertificate failed: ThrottlingException: ThrottlingException from the test',
    });
    expect(pca.commandCalls(GetCertificateCommand)).toHaveLength(0);

    pca.on(IssueCertificateCommand).resolves({ CertificateArn: certificateArn });
    pca.on(GetCertificateCommand).rejects(awsError('InternalFailure', 'server'));
    await expect(authority().issue({ csrPem, spiffeId, notBefore })).rejects.toThrow(CaThrottled);
  });

  it.each([
    ['MalformedCSRException', new MalformedCSRException({ $metadata: {}, message: 'bad csr' })],
    ['InvalidArgsException', new InvalidArgsException({ $metadata: {}, message: 'bad args' })],
    ['ResourceNotFoundException', new ResourceNotFoundException({ $metadata: {}, message: 'no such CA' })],
    ['LimitExceededException', new LimitExceededException({ $metadata: {}, message: 'quota' })],
  ])(
    'maps %s from IssueCertificate to CertificateRequestFailed, keeping the AWS name',
    async (name, error) => {
      pca.on(IssueCertificateCommand).rejects(error);
      const issuing = authority().issue({ csrPem, spiffeId, notBefore });
      await expect(issuing).rejects.toThrow(CertificateRequestFailed);
      await expect(issuing).rejects.toThrow(new RegExp(`IssueCertificate failed: ${name}`));
    },
  );

  it('maps a failed request found while polling to CertificateRequestFailed', async () => {
    pca.on(GetCertificateCommand).rejects(new RequestFailedException({ $metadata: {}, message: 'failed' }));
    await expect(authority().issue({ csrPem, spiffeId, notBefore })).rejects.toThrow(
      /GetCertificate failed: RequestFailedException/,
    );
  });
});

describe('AcmPcaAuthority.bundle', () => {
  it('is the root above a subordinate CA, asked once', async () => {
    pca
      .on(GetCertificateAuthorityCertificateCommand)
      .resolves({ Certificate: pki.issuingPem, CertificateChain: pki.rootPem });
    const ca = authority();
    expect(await ca.bundle()).toEqual([pki.rootPem]);
    expect(await ca.bundle()).toEqual([pki.rootPem]);
    const calls = pca.commandCalls(GetCertificateAuthorityCertificateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ CertificateAuthorityArn: caArn });
  });

  it('is the CA itself when it is a root', async () => {
    pca.on(GetCertificateAuthorityCertificateCommand).resolves({ Certificate: pki.rootPem });
    expect(await authority().bundle()).toEqual([pki.rootPem]);
  });

  it('does not cache a failure', async () => {
    pca
      .on(GetCertificateAuthorityCertificateCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .resolves({ Certificate: pki.rootPem });
    const ca = authority();
    await expect(ca.bundle()).rejects.toThrow(CaThrottled);
    expect(await ca.bundle()).toEqual([pki.rootPem]);
  });
});
