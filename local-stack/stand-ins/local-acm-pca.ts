import { randomBytes } from 'node:crypto';
import {
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  InvalidArgsException,
  IssueCertificateCommand,
  MalformedCSRException,
  ResourceNotFoundException,
} from '@aws-sdk/client-acm-pca';
import type { AcmPcaApi } from '../../functions/shared/aws/clients';
import { CertificateRequestFailed } from '../../functions/shared/domain/errors';
import { SVID_LIFETIME_MS } from '../../functions/shared/domain/svid-profile';
import type { IssuedCertificate } from '../../functions/shared/ports/certificate-authority/certificate-authority';
import type { SoftwareCertificateAuthority } from './software-ca/software-ca';

const SVID_TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1';
const metadata = { $metadata: { httpStatusCode: 400 } };

/**
 * ACM Private CA's API at home, over the software CA: IssueCertificate with the passthrough template and a
 * URI SAN, GetCertificate, GetCertificateAuthorityCertificate. It lets the embedded default run the same
 * AcmPcaAuthority adapter as AWS, so requests, polling and idempotency are exercised locally.
 * Certificates are signed at once, so the first GetCertificate finds them.
 */
export class LocalAcmPca {
  readonly #issued = new Map<string, Promise<IssuedCertificate>>();
  readonly #byToken = new Map<string, string>();

  constructor(
    private readonly ca: SoftwareCertificateAuthority,
    readonly caArn: string,
  ) {}

  readonly send = (async (command: unknown) => {
    if (command instanceof IssueCertificateCommand) return this.#issue(command);
    if (command instanceof GetCertificateCommand) return this.#get(command);
    if (command instanceof GetCertificateAuthorityCertificateCommand) {
      this.#checkCa(command.input.CertificateAuthorityArn);
      const [root] = await this.ca.bundle();
      return { Certificate: root, $metadata: { httpStatusCode: 200 } };
    }
    throw new Error(`LocalAcmPca does not implement ${(command as object).constructor.name}`);
  }) as AcmPcaApi['send'];

  async #issue(command: IssueCertificateCommand) {
    const input = command.input;
    this.#checkCa(input.CertificateAuthorityArn);
    if (input.TemplateArn !== SVID_TEMPLATE_ARN) {
      throw new InvalidArgsException({
        message: `template ${input.TemplateArn} is not the SVID template`,
        ...metadata,
      });
    }
    const uris = input.ApiPassthrough?.Extensions?.SubjectAlternativeNames ?? [];
    const spiffeId = uris[0]?.UniformResourceIdentifier;
    if (uris.length !== 1 || !spiffeId) {
      throw new InvalidArgsException({
        message: 'exactly one URI subject alternative name is required',
        ...metadata,
      });
    }
    const notBefore = input.ValidityNotBefore?.Value;
    if (
      input.ValidityNotBefore?.Type !== 'ABSOLUTE' ||
      input.Validity?.Type !== 'ABSOLUTE' ||
      notBefore === undefined
    ) {
      throw new InvalidArgsException({
        message: 'Validity and ValidityNotBefore must be ABSOLUTE',
        ...metadata,
      });
    }
    if ((Number(input.Validity.Value) - Number(notBefore)) * 1000 !== SVID_LIFETIME_MS) {
      throw new InvalidArgsException({ message: 'an SVID is valid exactly 24 hours', ...metadata });
    }
    // Like PCA, the same idempotency token answers with the certificate it already issued.
    const known = input.IdempotencyToken ? this.#byToken.get(input.IdempotencyToken) : undefined;
    if (known) return { CertificateArn: known, $metadata: { httpStatusCode: 200 } };

    // Random, as PCA's: each function container has a CA stand-in of its own, and no two may name one certificate.
    const certificateArn = `${this.caArn}/certificate/${randomBytes(16).toString('hex')}`;
    const issued = this.ca.issue({
      csrPem: new TextDecoder().decode(input.Csr),
      spiffeId,
      notBefore: new Date(Number(notBefore) * 1000),
    });
    this.#issued.set(certificateArn, issued);
    if (input.IdempotencyToken) this.#byToken.set(input.IdempotencyToken, certificateArn);
    // Like PCA, IssueCertificate itself refuses a CSR that does not parse or whose signature does not verify
    // (the software CA checks it before signing, at once); other refusals, such as a SAN outside the CA's trust
    // domain, surface at GetCertificate, as PCA reports a failed request there.
    const refusal = await issued.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (refusal instanceof CertificateRequestFailed && refusal.message.startsWith('MalformedCSR')) {
      this.#issued.delete(certificateArn);
      if (input.IdempotencyToken) this.#byToken.delete(input.IdempotencyToken);
      throw new MalformedCSRException({
        message: `The certificate signing request is invalid: ${refusal.message}`,
        ...metadata,
      });
    }
    return { CertificateArn: certificateArn, $metadata: { httpStatusCode: 200 } };
  }

  async #get(command: GetCertificateCommand) {
    this.#checkCa(command.input.CertificateAuthorityArn);
    const issued = this.#issued.get(command.input.CertificateArn ?? '');
    if (!issued) {
      throw new ResourceNotFoundException({
        message: `no certificate ${command.input.CertificateArn}`,
        ...metadata,
      });
    }
    const { certificatePem, chainPem } = await issued;
    return {
      Certificate: certificatePem,
      CertificateChain: [...chainPem, ...(await this.ca.bundle())].join('\n'),
      $metadata: { httpStatusCode: 200 },
    };
  }

  #checkCa(arn: string | undefined) {
    if (arn !== this.caArn) {
      throw new ResourceNotFoundException({ message: `no certificate authority ${arn}`, ...metadata });
    }
  }
}
