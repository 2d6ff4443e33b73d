/**
 * The software CA's root on disk, `<dir>/root.key` (0600) and `root.pem`: made like SPIRE's root the first
 * time, and on every later opening checked to be whole, to be one key and its certificate, and to be the
 * root of the trust domain asked for; a damaged file is named with what to do, never a decoder's error.
 */
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { InvalidConfiguration } from '../../../functions/shared/domain/errors';
import {
  SVID_KEY_ALGORITHM,
  SVID_SIGNATURE_ALGORITHM,
  SVID_SUBJECT,
} from '../../../functions/shared/domain/svid-profile';
import { signingCertificateSpiffeId } from '../../../client/spiffe/x509-svid';
import { type CaFiles, readCaFiles, writeCaFiles } from '../ca-files';
import { randomSerial } from '../../../functions/shared/domain/der';

const ROOT_KEY_FILE = 'root.key';
const ROOT_CERT_FILE = 'root.pem';
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 60 * 60 * 1000;

export interface Root {
  certificate: x509.X509Certificate;
  key: KeyObject;
  /** The key identifier of the root's public key, as every leaf's authority key identifier. */
  keyId: Buffer;
}

/** The root of `trustDomain` kept in `dir`; created there the first time. */
export async function openRoot(dir: string, trustDomain: string): Promise<Root> {
  const files: CaFiles = {
    dir,
    keyFile: ROOT_KEY_FILE,
    certFile: ROOT_CERT_FILE,
    describe: { ca: 'the software CA', made: 'root' },
  };
  const kept = await readCaFiles(files);
  if (!kept) return createRoot(files, trustDomain);
  const { root, rootKey } = readRoot(dir, kept.keyPem, kept.certPem);
  const rootId = signingCertificateSpiffeId(root.rawData);
  if (rootId !== `spiffe://${trustDomain}`) {
    throw new InvalidConfiguration(
      `the software CA in ${dir} is the root of ${rootId}, not of spiffe://${trustDomain}`,
    );
  }
  return { certificate: root, key: rootKey, keyId: Buffer.from(await root.publicKey.getKeyIdentifier()) };
}

async function createRoot(files: CaFiles, trustDomain: string): Promise<Root> {
  const keys = await crypto.subtle.generateKey(SVID_KEY_ALGORITHM, true, ['sign', 'verify']);
  const keyId = Buffer.from(await (await x509.PublicKey.create(keys.publicKey)).getKeyIdentifier());
  const now = Date.now();
  // What SPIRE's root looks like: CA, may sign certificates and CRLs, named by the trust domain's SPIFFE ID.
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial().toString('hex'),
    name: `${SVID_SUBJECT}, CN=trust-bridge local CA ${keyId.toString('hex').slice(0, 16)}`,
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
      new x509.SubjectKeyIdentifierExtension(keyId.toString('hex')),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  const keyPem = x509.PemConverter.encode(
    await crypto.subtle.exportKey('pkcs8', keys.privateKey),
    'PRIVATE KEY',
  );
  await writeCaFiles(files, keyPem, certificate.toString('pem'));
  return { certificate, key: createPrivateKey(keyPem), keyId };
}

/**
 * The root certificate and its key as the directory holds them, each checked to be what it says and the
 * key to be the certificate's.
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
