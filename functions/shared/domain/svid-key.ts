import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { parseSpiffeId } from './spiffe-id';
import { SVID_KEY_ALGORITHM, SVID_SIGNATURE_ALGORITHM, SVID_SUBJECT } from './svid-profile';

export interface SvidKeyAndCsr {
  /** PKCS#10 CSR, PEM, carrying the SPIFFE ID as its URI SAN. */
  csrPem: string;
  /** PKCS#8 PEM. Secret: it never leaves the invocation that created it except into the SVID store. */
  privateKeyPem: string;
}

/** A fresh ECDSA P-256 key and a CSR for it; the key is extractable only so it can be exported once. */
export async function createSvidKeyAndCsr(spiffeId: string): Promise<SvidKeyAndCsr> {
  parseSpiffeId(spiffeId);
  const keys = await crypto.subtle.generateKey(SVID_KEY_ALGORITHM, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: SVID_SUBJECT,
    keys,
    signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }])],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csrPem: csr.toString('pem'), privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
