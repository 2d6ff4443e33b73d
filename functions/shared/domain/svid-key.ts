import { generateKeyPairSync, type JsonWebKey, sign } from 'node:crypto';
import { BIT_STRING, der, INTEGER, OCTET_STRING, SEQUENCE } from './der';
import { parseSpiffeId } from './spiffe-id';
import { SVID_SUBJECT_DER } from './svid-profile';

export interface SvidKeyAndCsr {
  /** PKCS#10 CSR, PEM, carrying the SPIFFE ID as its URI SAN. */
  csrPem: string;
  /** PKCS#8 PEM. Secret: it never leaves the invocation that created it except into the SVID store. */
  privateKeyPem: string;
}

// The pre-encoded parts every SVID key and CSR share (RFC 5480, RFC 5915, RFC 2986).
const EC_P256_ALGORITHM = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
const ECDSA_WITH_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
const OID_EXTENSION_REQUEST = Buffer.from('06092a864886f70d01090e', 'hex');
const OID_SUBJECT_ALT_NAME = Buffer.from('0603551d11', 'hex');
const UNCOMPRESSED_POINT = Buffer.from([0x04]);
const P256_COORDINATE_BYTES = 32;

/**
 * A fresh ECDSA P-256 key and a CSR for it, signed with SHA-256. The key is made by node:crypto and both
 * encodings are assembled here (the CSR as @peculiar/x509 would build it, the PKCS#8 byte for byte as OpenSSL
 * writes it): the generic encoders cost about 0.7 ms per SVID, the most of an issuance's local work.
 */
export async function createSvidKeyAndCsr(spiffeId: string): Promise<SvidKeyAndCsr> {
  parseSpiffeId(spiffeId);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // JWK export reads the numbers straight from the key; OpenSSL's DER encoders are slower by far.
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([UNCOMPRESSED_POINT, coordinate(jwk, 'x'), coordinate(jwk, 'y')]);
  const publicKeyBits = der(BIT_STRING, Buffer.from([0]), point);
  const requestInfo = der(
    SEQUENCE,
    der(INTEGER, Buffer.from([0])),
    SVID_SUBJECT_DER,
    der(SEQUENCE, EC_P256_ALGORITHM, publicKeyBits),
    der(
      0xa0,
      der(
        SEQUENCE,
        OID_EXTENSION_REQUEST,
        der(
          0x31,
          der(
            SEQUENCE,
            der(
              SEQUENCE,
              OID_SUBJECT_ALT_NAME,
              der(OCTET_STRING, der(SEQUENCE, der(0x86, Buffer.from(spiffeId, 'ascii')))),
            ),
          ),
        ),
      ),
    ),
  );
  const signature = sign('sha256', requestInfo, privateKey);
  const csr = der(SEQUENCE, requestInfo, ECDSA_WITH_SHA256, der(BIT_STRING, Buffer.from([0]), signature));
  const pkcs8 = der(
    SEQUENCE,
    der(INTEGER, Buffer.from([0])),
    EC_P256_ALGORITHM,
    der(
      OCTET_STRING,
      der(
        SEQUENCE,
        der(INTEGER, Buffer.from([1])),
        der(OCTET_STRING, coordinate(jwk, 'd')),
        der(0xa1, publicKeyBits),
      ),
    ),
  );
  return { csrPem: pem(csr, 'CERTIFICATE REQUEST'), privateKeyPem: pem(pkcs8, 'PRIVATE KEY') };
}

/** A P-256 JWK number as its fixed 32 bytes, as SEC 1 and RFC 5915 encode it. */
function coordinate(jwk: JsonWebKey, name: 'x' | 'y' | 'd'): Buffer {
  const bytes = Buffer.from(jwk[name] ?? '', 'base64url');
  // The key is not named: a wrong length is a platform fault, and the bytes may be secret.
  if (bytes.length !== P256_COORDINATE_BYTES) throw new Error(`a P-256 key's ${name} is not 32 bytes`);
  return bytes;
}

/** RFC 7468 text: base64 in lines of 64. */
function pem(body: Buffer, label: string): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
