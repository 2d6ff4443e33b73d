import 'reflect-metadata';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  getRandomValues,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIfPresent } from '../read-if-present';
import * as x509 from '@peculiar/x509';
import { CertificateRequestFailed, InvalidConfiguration } from '../../functions/shared/domain/errors';
import { parseSpiffeId } from '../../functions/shared/domain/spiffe-id';
import {
  SVID_FIXED_EXTENSIONS,
  SVID_KEY_ALGORITHM,
  SVID_SIGNATURE_ALGORITHM,
  SVID_SUBJECT,
  svidValidity,
} from '../../functions/shared/domain/svid-profile';
import { spiffeIdOf } from '../../functions/shared/domain/svid-rules';
import type {
  CertificateAuthority,
  IssuedCertificate,
  SigningRequest,
} from '../../functions/shared/ports/certificate-authority/certificate-authority';

const ROOT_KEY_FILE = 'root.key';
const ROOT_CERT_FILE = 'root.pem';
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/**
 * ACM Private CA's stand-in at home: a self-signed ECDSA P-256 root kept in a directory, issuing
 * X509-SVIDs by the same profile as the PCA passthrough template. Like PCA with that template, it
 * takes only the public key from the CSR; the SAN comes from the request.
 *
 * The root is made and read with @peculiar/x509. Leaves are assembled from pre-encoded DER and
 * signed with node:crypto instead: @peculiar/x509's generic ASN.1 path costs about 4 ms per
 * certificate, too slow for benchmarks that issue tens of thousands.
 */
export class SoftwareCertificateAuthority implements CertificateAuthority {
  #issueCalls = 0;
  readonly #trustDomain: string;
  readonly #rootPem: string;
  readonly #rootKey: KeyObject;
  /** The root's subject, byte for byte, as every leaf's issuer. */
  readonly #issuerDer: Buffer;
  readonly #authorityKeyIdentifierDer: Buffer;

  private constructor(
    trustDomain: string,
    root: x509.X509Certificate,
    rootKey: KeyObject,
    rootKeyId: Buffer,
  ) {
    this.#trustDomain = trustDomain;
    this.#rootPem = root.toString('pem');
    this.#rootKey = rootKey;
    const tbs = children(Buffer.from(root.rawData))[0];
    const issuer = tbs && children(tbs)[5];
    if (!issuer) throw new InvalidConfiguration('the software CA root certificate has no subject');
    this.#issuerDer = issuer;
    this.#authorityKeyIdentifierDer = Buffer.from(
      new x509.AuthorityKeyIdentifierExtension(rootKeyId.toString('hex')).rawData,
    );
  }

  /** Loads the root from `dir`, or creates it there the first time (key readable by its owner only). */
  static async open(dir: string, trustDomain: string): Promise<SoftwareCertificateAuthority> {
    const rootDomain = parseSpiffeId(`spiffe://${trustDomain}`).trustDomain;
    const [keyPem, certPem] = await Promise.all([
      readIfPresent(join(dir, ROOT_KEY_FILE)),
      readIfPresent(join(dir, ROOT_CERT_FILE)),
    ]);
    if (keyPem === undefined && certPem === undefined)
      return SoftwareCertificateAuthority.create(dir, rootDomain);
    if (keyPem === undefined || certPem === undefined) {
      throw new InvalidConfiguration(
        `the software CA in ${dir} has only one of ${ROOT_KEY_FILE} and ${ROOT_CERT_FILE}; remove the other to create a new root`,
      );
    }
    const { root, rootKey } = readRoot(dir, keyPem, certPem);
    const rootId = spiffeIdOf(root.rawData);
    if (rootId !== `spiffe://${rootDomain}`) {
      throw new InvalidConfiguration(
        `the software CA in ${dir} is the root of ${rootId}, not of spiffe://${rootDomain}`,
      );
    }
    const rootKeyId = Buffer.from(await root.publicKey.getKeyIdentifier());
    return new SoftwareCertificateAuthority(rootDomain, root, rootKey, rootKeyId);
  }

  private static async create(dir: string, trustDomain: string): Promise<SoftwareCertificateAuthority> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const keys = await crypto.subtle.generateKey(SVID_KEY_ALGORITHM, true, ['sign', 'verify']);
    const rootKeyId = Buffer.from(await (await x509.PublicKey.create(keys.publicKey)).getKeyIdentifier());
    const now = Date.now();
    // What SPIRE's root looks like: CA, may sign certificates and CRLs, named by the trust domain's SPIFFE ID.
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial().toString('hex'),
      name: `${SVID_SUBJECT}, CN=trust-bridge local CA ${rootKeyId.toString('hex').slice(0, 16)}`,
      keys,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + ROOT_LIFETIME_MS),
      signingAlgorithm: SVID_SIGNATURE_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        new x509.SubjectKeyIdentifierExtension(rootKeyId.toString('hex')),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
      ],
    });
    const keyPem = x509.PemConverter.encode(
      await crypto.subtle.exportKey('pkcs8', keys.privateKey),
      'PRIVATE KEY',
    );
    // 'wx': never overwrite a root another process created meanwhile. The certificate lands by rename, so a
    // crash leaves a key without certificate, which open() reports, never a certificate without key.
    await writeFile(join(dir, ROOT_KEY_FILE), keyPem, { mode: 0o600, flag: 'wx' });
    const pending = join(dir, `${ROOT_CERT_FILE}.${process.pid}.tmp`);
    await writeFile(pending, root.toString('pem'), { mode: 0o644 });
    await rename(pending, join(dir, ROOT_CERT_FILE));
    return new SoftwareCertificateAuthority(trustDomain, root, createPrivateKey(keyPem), rootKeyId);
  }

  /** How many times issue() was called, successful or not (benchmarks compare it with PCA quotas). */
  get issueCalls(): number {
    return this.#issueCalls;
  }

  async issue(request: SigningRequest): Promise<IssuedCertificate> {
    this.#issueCalls++;
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
      LEAF_SUBJECT_DER,
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
 * The root certificate and its key as the directory holds them, each checked to be what it says and the
 * key to be the certificate's: a damaged file is named with what to do, never a decoder's error.
 */
function readRoot(
  dir: string,
  keyPem: string,
  certPem: string,
): { root: x509.X509Certificate; rootKey: KeyObject } {
  const keyPath = join(dir, ROOT_KEY_FILE);
  const certPath = join(dir, ROOT_CERT_FILE);
  const startOver =
    `restore it from a backup; or move ${dir} aside to make a new root, after which every SVID the old root ` +
    'issued fails verification until a run with --force issues it again';
  let root: x509.X509Certificate;
  try {
    root = new x509.X509Certificate(certPem);
  } catch {
    throw new InvalidConfiguration(
      `${certPath} is not a PEM certificate (cut short, or edited?): ${startOver}`,
    );
  }
  let rootKey: KeyObject;
  try {
    rootKey = createPrivateKey(keyPem);
  } catch {
    // The decoder's message says nothing useful, and the text is never quoted: it is a private key.
    throw new InvalidConfiguration(
      `${keyPath} is not a readable private key (cut short, or edited?): ${startOver}`,
    );
  }
  const publicKey = createPublicKey(rootKey).export({ type: 'spki', format: 'der' });
  if (!publicKey.equals(Buffer.from(root.publicKey.rawData))) {
    throw new InvalidConfiguration(`${keyPath} is not the key of ${certPath}: ${startOver}`);
  }
  return { root, rootKey };
}

// DER tags and the pre-encoded parts every leaf shares.
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const SEQUENCE = 0x30;
const ECDSA_WITH_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
const OID_SUBJECT_KEY_IDENTIFIER = Buffer.from('0603551d0e', 'hex');
const OID_SUBJECT_ALT_NAME = Buffer.from('0603551d11', 'hex');
const LEAF_SUBJECT_DER = Buffer.from(new x509.Name(SVID_SUBJECT).toArrayBuffer());
const FIXED_EXTENSIONS_DER = SVID_FIXED_EXTENSIONS.map((e) => Buffer.from(e.rawData));

/** CSR signature algorithms and the hash node:crypto verifies them with. */
const CSR_SIGNATURE_HASHES = new Map([
  ['06082a8648ce3d040302', 'sha256'], // ecdsa-with-SHA256
  ['06082a8648ce3d040303', 'sha384'], // ecdsa-with-SHA384
  ['06092a864886f70d01010b', 'sha256'], // sha256WithRSAEncryption
]);

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
    valid = verify(hash, info, { key: subjectPublicKeyInfo, format: 'der', type: 'spki' }, signature);
  } catch (error) {
    throw malformed(`the CSR public key is unusable (${(error as Error).message})`);
  }
  if (!valid) throw malformed('the CSR signature does not verify with its own public key');
  return subjectPublicKeyInfo;
}

/** RFC 5280 method 1, as ACM PCA and @peculiar/x509 compute it: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  const bits = children(subjectPublicKeyInfo)[1];
  if (!bits) throw new CertificateRequestFailed('MalformedCSR: the public key has no key bits');
  return createHash('sha1').update(content(bits).subarray(1)).digest();
}

function extension(oid: Buffer, value: Buffer): Buffer {
  return der(SEQUENCE, oid, der(OCTET_STRING, value));
}

/** One DER TLV; lengths up to 64 KiB are all a certificate needs. */
function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  if (n > 0xffff) throw new RangeError('DER value too long');
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050, always whole seconds in UTC. */
function derTime(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  return year < 2050
    ? der(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : der(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** Reads the TLV at `offset`: where its content starts and where it ends. */
function readTlv(buffer: Buffer, offset: number): { contentStart: number; end: number } {
  const first = buffer[offset + 1];
  if (first === undefined) throw new Error('truncated DER');
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets < 1 || octets > 3) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (buffer[contentStart++] ?? Number.NaN);
  }
  const end = contentStart + length;
  if (!(end <= buffer.length)) throw new Error('truncated DER');
  return { contentStart, end };
}

function content(tlv: Buffer): Buffer {
  const { contentStart, end } = readTlv(tlv, 0);
  return tlv.subarray(contentStart, end);
}

/** The TLVs directly inside a constructed TLV, each with its own header. */
function children(tlv: Buffer): Buffer[] {
  const { contentStart, end } = readTlv(tlv, 0);
  const items: Buffer[] = [];
  for (let at = contentStart; at < end;) {
    const next = readTlv(tlv, at).end;
    if (next > end) throw new Error('DER child overruns its parent');
    items.push(tlv.subarray(at, next));
    at = next;
  }
  return items;
}

/** 128 random bits as a positive DER INTEGER: top bit clear, first byte non-zero so the encoding stays minimal. */
function randomSerial(): Buffer {
  const bytes = Buffer.from(getRandomValues(new Uint8Array(16)));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes;
}
