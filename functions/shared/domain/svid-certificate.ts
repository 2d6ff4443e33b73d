import { X509Certificate } from 'node:crypto';
import { spiffeIdOf } from '../../../client/spiffe/x509-svid';

/** What an SVID secret's tags record of its certificate. */
export interface CertificateFacts {
  spiffeId: string;
  /** Lower-case hex, as node:crypto gives it. */
  serial: string;
  /** ISO 8601. */
  notAfter: string;
}

/**
 * The facts the tags record of an X509-SVID (PEM, the leaf first): what issue-svid tags after issuing, and what
 * the store reads back from a version no commit describes. Throws InvalidSpiffeId for a certificate that is
 * not an X509-SVID.
 */
export const certificateFacts = (pem: string): CertificateFacts => {
  const leaf = new X509Certificate(pem);
  return {
    spiffeId: spiffeIdOf(leaf),
    serial: leaf.serialNumber.toLowerCase(),
    notAfter: new Date(leaf.validTo).toISOString(),
  };
};
