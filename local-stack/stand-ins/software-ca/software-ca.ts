/**
 * The software CA's signing: X509-SVIDs by the PCA passthrough template's profile, under the root its
 * directory keeps (root.ts), each CSR verified first.
 */
import 'reflect-metadata';
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CertificateRequestFailed, InvalidConfiguration } from '../../../functions/shared/domain/errors';
import { parseSpiffeId } from '../../../functions/shared/domain/spiffe-id';
import {
  SVID_FIXED_EXTENSIONS,
  SVID_SUBJECT_DER,
  svidValidity,
} from '../../../functions/shared/domain/svid-profile';
import type {
  CertificateAuthority,
  IssuedCertificate,
  SigningRequest,
} from '../../../functions/shared/ports/certificate-authority/certificate-authority';
import {
  BIT_STRING,
  children,
  content,
  der,
  derTime,
  extension,
  INTEGER,
  OCTET_STRING,
  randomSerial,
  SEQUENCE,
} from '../../../functions/shared/domain/der';
import { openRoot, type Root } from './root';

// The pre-encoded parts every leaf shares.
const ECDSA_WITH_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
const OID_SUBJECT_KEY_IDENTIFIER = Buffer.from('0603551d0e', 'hex');
const OID_SUBJECT_ALT_NAME = Buffer.from('0603551d11', 'hex');
const FIXED_EXTENSIONS_DER = SVID_FIXED_EXTENSIONS.map((e) => Buffer.from(e.rawData));

/** CSR signature algorithms and the hash node:crypto verifies them with. */
const CSR_SIGNATURE_HASHES = new Map([
  ['06082a8648ce3d040302', 'sha256'], // ecdsa-with-SHA256
  ['06082a8648ce3d040303', 'sha384'], // ecdsa-with-SHA384
  ['06092a864886f70d01010b', 'sha256'], // sha256WithRSAEncryption
]);

/**
 * ACM Private CA's stand-in at home: a self-signed ECDSA P-256 root kept in a directory, issuing
 * X509-SVIDs by the same profile as the PCA passthrough template. Like PCA with that template, it
 * takes only the public key from the CSR; the SAN comes from the request.
 *
 * The root is made and read with @peculiar/x509. Leaves are assembled from pre-encoded DER and
 * signed with node:crypto instead (der.ts says why).
 */
export class SoftwareCertificateAuthority implements CertificateAuthority {
  readonly #trustDomain: string;
  readonly #rootPem: string;
  readonly #rootKey: KeyObject;
  /** The root's subject, byte for byte, as every leaf's issuer. */
  readonly #issuerDer: Buffer;
  readonly #authorityKeyIdentifierDer: Buffer;

  private constructor(trustDomain: string, root: Root) {
    this.#trustDomain = trustDomain;
    this.#rootPem = root.certificate.toString('pem');
    this.#rootKey = root.key;
    const tbs = children(Buffer.from(root.certificate.rawData))[0];
    const issuer = tbs && children(tbs)[5];
    if (!issuer) throw new InvalidConfiguration('the software CA root certificate has no subject');
    this.#issuerDer = issuer;
    this.#authorityKeyIdentifierDer = Buffer.from(
      new x509.AuthorityKeyIdentifierExtension(root.keyId.toString('hex')).rawData,
    );
  }

  /** Loads the root from `dir`, or creates it there the first time (key readable by its owner only). */
  static async open(dir: string, trustDomain: string): Promise<SoftwareCertificateAuthority> {
    const rootDomain = parseSpiffeId(`spiffe://${trustDomain}`).trustDomain;
    return new SoftwareCertificateAuthority(rootDomain, await openRoot(dir, rootDomain));
  }

  async issue(request: SigningRequest): Promise<IssuedCertificate> {
    let requestedDomain: string;
    try {
      requestedDomain = parseSpiffeId(request.spiffeId).trustDomain;
    } catch (error) {
      throw new CertificateRequestFailed(`the SAN was refused: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (requestedDomain !== this.#trustDomain) {
      throw new CertificateRequestFailed(
        `${request.spiffeId} is outside trust domain ${this.#trustDomain}; this CA signs only its own`,
      );
    }
    const subjectPublicKeyInfo = verifiedCsrKey(request.csrPem);
    const { notBefore, notAfter } = svidValidity(request.notBefore);
    const tbs = der(
      SEQUENCE,
      der(0xa0, der(INTEGER, Buffer.from([2]))),
      der(INTEGER, randomSerial()),
      ECDSA_WITH_SHA256,
      this.#issuerDer,
      der(SEQUENCE, derTime(notBefore), derTime(notAfter)),
      SVID_SUBJECT_DER,
      subjectPublicKeyInfo,
      der(
        0xa3,
        der(
          SEQUENCE,
          ...FIXED_EXTENSIONS_DER,
          extension(OID_SUBJECT_ALT_NAME, der(SEQUENCE, der(0x86, Buffer.from(request.spiffeId, 'ascii')))),
          extension(OID_SUBJECT_KEY_IDENTIFIER, der(OCTET_STRING, keyIdentifier(subjectPublicKeyInfo))),
          this.#authorityKeyIdentifierDer,
        ),
      ),
    );
    const signature = sign('sha256', tbs, this.#rootKey);
    const certificate = der(SEQUENCE, tbs, ECDSA_WITH_SHA256, der(BIT_STRING, Buffer.from([0]), signature));
    return { certificatePem: x509.PemConverter.encode(certificate, 'CERTIFICATE'), chainPem: [] };
  }

  async bundle(): Promise<string[]> {
    return [this.#rootPem];
  }
}

/**
 * The CSR's SubjectPublicKeyInfo, once its signature verifies with that key. ACM PCA answers
 * MalformedCSRException for a broken or badly signed CSR; so does this CA, as a permanent failure.
 */
function verifiedCsrKey(csrPem: string): Buffer {
  const malformed = (why: string) => new CertificateRequestFailed(`MalformedCSR: ${why}`);
  let info: Buffer | undefined;
  let subjectPublicKeyInfo: Buffer | undefined;
  let hash: string | undefined;
  let signature: Buffer | undefined;
  try {
    const [requestInfo, algorithm, signatureBits] = children(
      Buffer.from(x509.PemConverter.decodeFirst(csrPem)),
    );
    info = requestInfo;
    subjectPublicKeyInfo = requestInfo && children(requestInfo)[2];
    const oid = algorithm && children(algorithm)[0];
    hash = oid && CSR_SIGNATURE_HASHES.get(oid.toString('hex'));
    signature = signatureBits && content(signatureBits).subarray(1);
  } catch (error) {
    throw malformed(`not a PKCS#10 CSR in PEM (${(error as Error).message})`);
  }
  if (!info || !subjectPublicKeyInfo || !signature) throw malformed('not a PKCS#10 CSR');
  if (!hash) throw malformed('the CSR is signed with an unsupported algorithm');
  let valid: boolean;
  try {
    valid = verify(hash, info, publicKeyOf(subjectPublicKeyInfo), signature);
  } catch (error) {
    throw malformed(`the CSR public key is unusable (${(error as Error).message})`);
  }
  if (!valid) throw malformed('the CSR signature does not verify with its own public key');
  return subjectPublicKeyInfo;
}

/** The SubjectPublicKeyInfo header of every P-256 key, up to its uncompressed point (RFC 5480). */
const P256_SPKI_HEADER = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/**
 * The CSR's public key, for node:crypto. A P-256 key (every SVID's) is given as its point in a JWK, which
 * node:crypto takes in half the time of the DER that OpenSSL's decoders parse; any other key as its DER.
 */
function publicKeyOf(subjectPublicKeyInfo: Buffer): KeyObject | { key: Buffer; format: 'der'; type: 'spki' } {
  const point = subjectPublicKeyInfo.subarray(P256_SPKI_HEADER.length);
  if (
    !subjectPublicKeyInfo.subarray(0, P256_SPKI_HEADER.length).equals(P256_SPKI_HEADER) ||
    point[0] !== 0x04
  ) {
    return { key: subjectPublicKeyInfo, format: 'der', type: 'spki' };
  }
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

/** RFC 5280 method 1, as ACM PCA and @peculiar/x509 compute it: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  const bits = children(subjectPublicKeyInfo)[1];
  if (!bits) throw new CertificateRequestFailed('MalformedCSR: the public key has no key bits');
  return createHash('sha1').update(content(bits).subarray(1)).digest();
}
