import 'reflect-metadata';
import { createHash } from 'node:crypto';
import {
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  type SigningAlgorithm,
} from '@aws-sdk/client-acm-pca';
import * as x509 from '@peculiar/x509';
import type { AcmPcaApi } from '../../aws/clients';
import { CaThrottled, CertificateNotYetIssued, CertificateRequestFailed } from '../../domain/errors';
import { svidValidity } from '../../domain/svid-profile';
import type { CertificateAuthority, IssuedCertificate, SigningRequest } from './certificate-authority';
import { isTransientAwsError } from '../../aws/transient-errors';

/** The passthrough template that makes PCA issue our SVID profile with the SPIFFE ID as URI SAN. */
export const SVID_TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1';

export interface AcmPcaAuthorityOptions {
  caArn: string;
  /** Must match the CA key's family; SHA256WITHECDSA by default. */
  signingAlgorithm?: string;
  templateArn?: string;
  /** How long issue() waits for PCA to finish the certificate before CertificateNotYetIssued; 10 s by default. */
  maxWaitMs?: number;
  /** Wait before each GetCertificate; 1 s by default, so a certificate ready within a second costs one call. */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** ACM Private CA behind the CertificateAuthority port. */
export class AcmPcaAuthority implements CertificateAuthority {
  readonly #caArn: string;
  readonly #signingAlgorithm: SigningAlgorithm;
  readonly #templateArn: string;
  readonly #maxWaitMs: number;
  readonly #pollIntervalMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  #bundle: Promise<string[]> | undefined;

  constructor(
    private readonly client: AcmPcaApi,
    options: AcmPcaAuthorityOptions,
  ) {
    this.#caArn = options.caArn;
    this.#signingAlgorithm = (options.signingAlgorithm ?? 'SHA256WITHECDSA') as SigningAlgorithm;
    this.#templateArn = options.templateArn ?? SVID_TEMPLATE_ARN;
    this.#maxWaitMs = options.maxWaitMs ?? 10_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async issue(request: SigningRequest): Promise<IssuedCertificate> {
    const { notBefore, notAfter } = svidValidity(request.notBefore);
    const issued = await this.#call('IssueCertificate', () =>
      this.client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: this.#caArn,
          Csr: new TextEncoder().encode(request.csrPem),
          SigningAlgorithm: this.#signingAlgorithm,
          TemplateArn: this.#templateArn,
          ApiPassthrough: {
            Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: request.spiffeId }] },
          },
          // PCA has no HOURS validity: both ends are absolute epoch seconds.
          Validity: { Type: 'ABSOLUTE', Value: epochSeconds(notAfter) },
          ValidityNotBefore: { Type: 'ABSOLUTE', Value: epochSeconds(notBefore) },
          IdempotencyToken: idempotencyToken(request),
        }),
      ),
    );
    const certificateArn = issued.CertificateArn;
    if (!certificateArn)
      throw new CertificateRequestFailed('ACM PCA IssueCertificate returned no CertificateArn');
    return this.#awaitCertificate(certificateArn);
  }

  /** The root(s) the CA chains to, asked once per instance (a Lambda container reuses it). */
  bundle(): Promise<string[]> {
    this.#bundle ??= this.#fetchBundle().catch((error: unknown) => {
      this.#bundle = undefined;
      throw error;
    });
    return this.#bundle;
  }

  async #fetchBundle(): Promise<string[]> {
    const response = await this.#call('GetCertificateAuthorityCertificate', () =>
      this.client.send(
        new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: this.#caArn }),
      ),
    );
    const certificates = pemBlocks(`${response.Certificate ?? ''}\n${response.CertificateChain ?? ''}`);
    const flags = await Promise.all(certificates.map(isSelfSigned));
    const roots = certificates.filter((_, i) => flags[i]);
    // A chain that stops below a self-signed root still has a top: the best anchor PCA lets us see.
    const top = certificates.at(-1);
    if (roots.length > 0) return roots;
    if (top) return [top];
    throw new CertificateRequestFailed(`ACM PCA returned no CA certificate for ${this.#caArn}`);
  }

  /** PCA signs asynchronously: wait first (it is usually done within a second), then poll within the bound. */
  async #awaitCertificate(certificateArn: string): Promise<IssuedCertificate> {
    let waited = 0;
    for (;;) {
      const delay = Math.min(this.#pollIntervalMs, this.#maxWaitMs - waited);
      await this.#sleep(delay);
      waited += delay;
      try {
        const response = await this.client.send(
          new GetCertificateCommand({ CertificateAuthorityArn: this.#caArn, CertificateArn: certificateArn }),
        );
        if (!response.Certificate)
          throw new CertificateRequestFailed(`ACM PCA returned an empty certificate for ${certificateArn}`);
        const chain = pemBlocks(response.CertificateChain ?? '');
        const roots = await Promise.all(chain.map(isSelfSigned));
        const [leaf] = pemBlocks(response.Certificate);
        if (!leaf)
          throw new CertificateRequestFailed(`ACM PCA returned no PEM certificate for ${certificateArn}`);
        return { certificatePem: leaf, chainPem: chain.filter((_, i) => !roots[i]) };
      } catch (error) {
        if (errorName(error) !== 'RequestInProgressException') throw mapError('GetCertificate', error);
        if (waited >= this.#maxWaitMs) {
          throw new CertificateNotYetIssued(
            `ACM PCA had not issued ${certificateArn} after ${waited} ms (RequestInProgressException)`,
            { cause: error },
          );
        }
      }
    }
  }

  async #call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw mapError(action, error);
    }
  }
}

/**
 * Same request, same token: a retry within PCA's 5-minute window gets the same certificate. The
 * hash covers the CSR (so a new key never receives an old key's certificate), the SAN and the validity.
 */
function idempotencyToken(request: SigningRequest): string {
  const { notBefore } = svidValidity(request.notBefore);
  return createHash('sha256')
    .update(new Uint8Array(x509.PemConverter.decodeFirst(request.csrPem)))
    .update(`\n${request.spiffeId}\n${epochSeconds(notBefore)}`)
    .digest('hex')
    .slice(0, 36);
}

function mapError(action: string, error: unknown): Error {
  if (error instanceof CertificateRequestFailed) return error;
  const name = errorName(error);
  const message = `ACM PCA ${action} failed: ${name}: ${(error as Error)?.message ?? String(error)}`;
  // IssueCertificate is idempotent by its token, so a timed-out one is retried too.
  if (isTransientAwsError(error)) return new CaThrottled(message, { cause: error });
  if (name === 'RequestInProgressException') return new CertificateNotYetIssued(message, { cause: error });
  // MalformedCSR, InvalidArgs, InvalidArn, InvalidState, ResourceNotFound, RequestFailed and
  // LimitExceeded (a CA quota such as certificates per CA, not a rate) do not heal by retrying.
  return new CertificateRequestFailed(message, { cause: error });
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** The certificates in a PEM text, each as its own PEM block. */
function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Every GetCertificate repeats the same CA certificates: each one's signature is checked once. */
const selfSignedByPem = new Map<string, Promise<boolean>>();

function isSelfSigned(block: string): Promise<boolean> {
  let flag = selfSignedByPem.get(block);
  if (!flag) {
    if (selfSignedByPem.size >= 64) selfSignedByPem.clear();
    flag = new x509.X509Certificate(block).isSelfSigned();
    selfSignedByPem.set(block, flag);
  }
  return flag;
}
