import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import * as x509 from '@peculiar/x509';
import { InvalidSvidClientOption, PeerNotAuthorized, SpiffeIdAllowList, spiffeIdOf } from '../../client';

describe('SpiffeIdAllowList', () => {
  const list = new SpiffeIdAllowList([
    'spiffe://example.org/prod/keywhiz',
    'spiffe://example.org/prod/mesh/*',
    'spiffe://partner.org/*',
  ]);

  it.each([
    ['spiffe://example.org/prod/keywhiz', true],
    ['spiffe://example.org/prod/keywhiz/admin', false],
    ['spiffe://example.org/prod/mesh/orders', true],
    ['spiffe://example.org/prod/mesh/orders/v2', true],
    ['spiffe://example.org/prod/mesh', false],
    ['spiffe://example.org/prod/meshy/orders', false],
    ['spiffe://partner.org/anything', true],
    ['spiffe://partner.org.evil/anything', false],
    ['spiffe://example.org/prod/payments', false],
  ])('%s → %s', (id, allowed) => {
    expect(list.allows(id)).toBe(allowed);
  });

  it('knows the trust domains it needs bundles for', () => {
    expect(list.trustDomains).toEqual(new Set(['example.org', 'partner.org']));
  });

  it.each([
    'https://example.org/prod/keywhiz',
    'spiffe://Example.org/prod/keywhiz',
    'spiffe://example.org',
    'spiffe://example.org/',
    'spiffe://example.org/prod/../admin',
    'spiffe://example.org/prod*',
    'spiffe://*',
  ])('refuses the entry %s', (entry) => {
    expect(() => new SpiffeIdAllowList([entry])).toThrow(InvalidSvidClientOption);
  });
});

describe('spiffeIdOf', () => {
  x509.cryptoProvider.set(webcrypto);
  const certificateWith = async (names: x509.JsonGeneralName[], ca = false) => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=test',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension(names), new x509.BasicConstraintsExtension(ca)],
    });
    return { raw: Buffer.from(cert.rawData) };
  };

  it('reads the one URI SAN beside other names', async () => {
    const cert = await certificateWith([
      { type: 'dns', value: 'mesh.example.org' },
      { type: 'url', value: 'spiffe://example.org/prod/mesh' },
    ]);
    expect(spiffeIdOf(cert)).toBe('spiffe://example.org/prod/mesh');
  });

  const noUriSan =
    'the certificate is not an X509-SVID: it has no URI SAN; an X509-SVID carries its SPIFFE ID as exactly one URI SAN';
  it.each([
    [[], noUriSan],
    [
      [
        { type: 'url', value: 'spiffe://example.org/prod/mesh' },
        { type: 'url', value: 'spiffe://example.org/prod/admin' },
      ],
      'the certificate is not an X509-SVID: it has 2 URI SANs ("spiffe://example.org/prod/mesh", ' +
        '"spiffe://example.org/prod/admin"); an X509-SVID has exactly one',
    ],
    [
      // A DNS name crafted to read like a second, allowed entry in Node's SAN text.
      [{ type: 'dns', value: 'x, URI:spiffe://example.org/prod/admin' }],
      noUriSan,
    ],
    [
      [{ type: 'url', value: 'spiffe://example.org' }],
      'the certificate is not an X509-SVID: its SPIFFE ID spiffe://example.org has no path: it names a trust ' +
        'domain, not a workload',
    ],
  ] as [x509.JsonGeneralName[], string][])('refuses %j', async (names, message) => {
    const cert = await certificateWith(names);
    expect(() => spiffeIdOf(cert)).toThrow(PeerNotAuthorized);
    expect(() => spiffeIdOf(cert)).toThrow(new PeerNotAuthorized(message));
  });

  it('refuses a CA certificate', async () => {
    const cert = await certificateWith([{ type: 'url', value: 'spiffe://example.org/prod/mesh' }], true);
    expect(() => spiffeIdOf(cert)).toThrow(
      new PeerNotAuthorized(
        'the certificate is not an X509-SVID: it is a CA certificate (basicConstraints CA:true); an X509-SVID ' +
          'leaf must be CA:false',
      ),
    );
  });
});
