/**
 * The Keywhiz dev server's own certificate, new per start: by default from a CA of its own (kept in a
 * directory, so its clients' trust survives a restart), as a real Keywhiz's comes from its operators' CA and
 * has nothing to do with the SVID issuer; or, in 'svid' mode, an X509-SVID from the software CA.
 */
import 'reflect-metadata';
import { randomBytes, type webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { createSvidKeyAndCsr } from '../../../functions/shared/domain/svid-key';
import { type CaFiles, readCaFiles, writeCaFiles } from '../ca-files';
import { randomSerial } from '../../../functions/shared/domain/der';
import type { SoftwareCertificateAuthority } from '../software-ca/software-ca';

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** The server's key and certificate, and the PEM that verifies the certificate. */
interface ServerCertificate {
  privateKeyPem: string;
  certificatePem: string;
  caPem: string;
}

/** An X509-SVID from the SVID issuer: clients then verify the server with the SVID bundle. */
export async function svidCertificate(
  ca: SoftwareCertificateAuthority,
  spiffeId: string,
): Promise<ServerCertificate> {
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const [issued, bundle] = await Promise.all([
    ca.issue({ csrPem, spiffeId, notBefore: new Date(Date.now() - 60_000) }),
    ca.bundle(),
  ]);
  return {
    privateKeyPem,
    certificatePem: [issued.certificatePem, ...issued.chainPem].join('\n'),
    caPem: bundle.join('\n'),
  };
}

/**
 * A server certificate from the dev server's own CA: a TLS server certificate for the host it listens on (DNS
 * localhost, its IP), carrying the SPIFFE ID as its URI SAN so that KEYWHIZ_SERVER_SPIFFE_ID can be checked too.
 * The CA is kept in `caDir`; without it, the CA is new per start too.
 */
export async function ownCaCertificate(
  caDir: string | undefined,
  spiffeId: string,
  host: string,
): Promise<ServerCertificate> {
  const ca = await keywhizCa(caDir);
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const addresses = [...new Set(['127.0.0.1', '::1', ...(isIP(host) ? [host] : [])])];
  const dnsNames = [...new Set(['localhost', ...(isIP(host) ? [] : [host])])];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial().toString('hex'),
    subject: 'CN=localhost, O=Keywhiz dev server',
    issuer: ca.certificate.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...addresses.map((value) => ({ type: 'ip' as const, value })),
        { type: 'url', value: spiffeId },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return {
    privateKeyPem: await pkcs8Pem(keys.privateKey),
    certificatePem: certificate.toString('pem'),
    caPem: `${ca.certificate.toString('pem')}\n`,
  };
}

/** The dev server's own root CA: loaded from `dir`, or created (there, when given). */
async function keywhizCa(
  dir: string | undefined,
): Promise<{ certificate: x509.X509Certificate; privateKey: webcrypto.CryptoKey }> {
  const files: CaFiles | undefined = dir
    ? {
        dir,
        keyFile: 'ca.key',
        certFile: 'ca.pem',
        describe: { ca: 'the Keywhiz dev server CA', made: 'CA' },
      }
    : undefined;
  const kept = files && (await readCaFiles(files));
  if (kept) {
    const privateKey = await crypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(kept.keyPem),
      KEY_ALGORITHM,
      false,
      ['sign'],
    );
    return { certificate: new x509.X509Certificate(kept.certPem), privateKey };
  }
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial().toString('hex'),
    name: `CN=Keywhiz dev server CA ${randomBytes(4).toString('hex')}, O=Keywhiz dev server`,
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  if (files) await writeCaFiles(files, await pkcs8Pem(keys.privateKey), certificate.toString('pem'));
  return { certificate, privateKey: keys.privateKey };
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}
