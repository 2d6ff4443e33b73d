/** What a certificate authority hands back for one signing request. */
export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  certificatePem: string;
  /** Intermediates up to (not including) the root, PEM, leaf-adjacent first; may be empty. */
  chainPem: string[];
}

export interface SigningRequest {
  /** PKCS#10 CSR, PEM. Its subject key is the SVID's key; the CA takes nothing else from it. */
  csrPem: string;
  /** The one URI SAN the certificate carries. */
  spiffeId: string;
  /** Start of validity; the certificate is valid exactly 24 h from here. */
  notBefore: Date;
}

/**
 * Signs an SVID's request.
 *
 * On AWS: `./acm-pca-authority.ts`. At home: the same adapter over the ACM PCA client's stand-in,
 * `local-stack/stand-ins/local-acm-pca.ts`, which signs with the software CA (`local-stack/stand-ins/software-ca/`).
 */
export interface CertificateAuthority {
  /** Issues one X509-SVID. Throws CaThrottled, CertificateNotYetIssued or CertificateRequestFailed. */
  issue(request: SigningRequest): Promise<IssuedCertificate>;
  /** The trust bundle: the root certificate(s) of the trust domain, PEM. */
  bundle(): Promise<string[]>;
}
