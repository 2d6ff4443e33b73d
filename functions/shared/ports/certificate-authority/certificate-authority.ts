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

/** ACM Private CA on AWS; a software CA built with @peculiar/x509 at home. */
export interface CertificateAuthority {
  /** Issues one X509-SVID. Throws CaThrottled, CertificateNotYetIssued or CertificateRequestFailed. */
  issue(request: SigningRequest): Promise<IssuedCertificate>;
  /** The trust bundle: the root certificate(s) of the trust domain, PEM. */
  bundle(): Promise<string[]>;
}
