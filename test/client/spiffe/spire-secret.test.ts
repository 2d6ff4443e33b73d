import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InvalidSvidClientOption, PeerNotAuthorized, SvidSecretInvalid, X509Svid } from '../../../client';
import type { SpireSvidSecret } from '../../../client/spiffe/spire-secret';
import { call, clientFor, type MeshService, startMeshService } from '../../support/mesh-service';
import { secretBinary, secretText, TestTrustDomains } from '../../support/test-svids';

/**
 * The client reads the value exactly as SPIRE's aws_secretsmanager SVID store writes it:
 * `federatedBundles` keyed `spiffe://<trust domain>`, and `bundle` left out when SPIRE has none
 * (omitempty). Two real CAs: ours (example.org) and a federated partner's (partner.org).
 */

const PAYMENTS = 'spiffe://example.org/prod/payments';
const OUR_SERVICE = 'spiffe://example.org/prod/orders';
const PARTNER_API = 'spiffe://partner.org/prod/api';
const PARTNER_BILLING = 'spiffe://partner.org/prod/billing';

let domains: TestTrustDomains;
/** Ours, federated with partner.org, with our bundle. */
let payments: SpireSvidSecret;
/** The same workload's value when SPIRE had no bundle of our own trust domain to write. */
let paymentsWithoutBundle: SpireSvidSecret;
/** partner.org's API, trusting example.org's callers. */
let partner: MeshService;

beforeAll(async () => {
  domains = await TestTrustDomains.create({ ours: 'example.org', partner: 'partner.org' });
  payments = await domains.secret('ours', PAYMENTS, { federated: { 'partner.org': 'partner' } });
  paymentsWithoutBundle = await domains.secret('ours', PAYMENTS, {
    federated: { 'partner.org': 'partner' },
    bundle: false,
  });
  partner = await startMeshService(
    await domains.secret('partner', PARTNER_API, { federated: { 'example.org': 'ours' } }),
    ['spiffe://example.org/*'],
  );
});

afterAll(async () => {
  await partner.close();
  await domains.close();
});

const json = (secret: SpireSvidSecret) => JSON.parse(secretText(secret)) as Record<string, unknown>;
/** `secret` as SPIRE writes it, but with these federatedBundles. */
const withFederatedKeys = (secret: SpireSvidSecret, bundles: Record<string, string>): string =>
  JSON.stringify({ ...json(secret), federatedBundles: bundles });

describe("the test values are SPIRE's", () => {
  it('have its fields, spiffe:// keys, newline-ended PEM, and no empty field', () => {
    const full = json(payments);
    expect(Object.keys(full)).toEqual(['spiffeID', 'x509SVID', 'x509SVIDKey', 'bundle', 'federatedBundles']);
    expect(Object.keys(full.federatedBundles as object)).toEqual(['spiffe://partner.org']);
    for (const pem of [
      full.x509SVID,
      full.x509SVIDKey,
      full.bundle,
      ...Object.values(full.federatedBundles as object),
    ]) {
      expect(pem).toMatch(/^-----BEGIN [A-Z ]+-----\n[\s\S]*-----END [A-Z ]+-----\n$/);
    }
    expect(String(full.x509SVIDKey)).toContain('-----BEGIN PRIVATE KEY-----\n');
    expect(Object.keys(json(paymentsWithoutBundle))).toEqual([
      'spiffeID',
      'x509SVID',
      'x509SVIDKey',
      'federatedBundles',
    ]);
  });
});

describe('federatedBundles keyed by spiffe://<trust domain>', () => {
  it('lets a function call a server of the federated trust domain that its allow-list names', async () => {
    const client = clientFor(payments);
    const outcome = await call(partner.port, await client.httpsAgent([PARTNER_API]));
    client.close();
    expect(outcome).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
    expect(partner.seen.at(-1)).toBe(PAYMENTS);
  });

  it('refuses a server of the federated trust domain that is not on the allow-list, before sending', async () => {
    const before = partner.seen.length;
    const client = clientFor(payments);
    const outcome = await call(partner.port, await client.httpsAgent([PARTNER_BILLING]));
    client.close();
    expect((outcome as { error: Error }).error).toEqual(
      new PeerNotAuthorized(`the peer ${PARTNER_API} is not on the allow-list`),
    );
    expect(partner.seen.length).toBe(before);
  });

  it('keys bundles by trust domain name, and reads a bare trust domain key the same way', () => {
    const spire = X509Svid.fromSecret(secretBinary(payments));
    const bare = X509Svid.fromSecret(
      withFederatedKeys(payments, {
        'partner.org': payments.federatedBundles['spiffe://partner.org'] as string,
      }),
    );
    for (const svid of [spire, bare]) {
      expect([...svid.bundles.keys()]).toEqual(['example.org', 'partner.org']);
      expect(svid.bundles.get('partner.org')?.map((cert) => cert.fingerprint256)).toEqual(
        spire.bundles.get('partner.org')?.map((cert) => cert.fingerprint256),
      );
    }
  });

  it.each([
    ['a SPIFFE ID with a path', 'spiffe://partner.org/prod'],
    ['an upper-case trust domain', 'spiffe://Partner.org'],
    ['another scheme', 'https://partner.org'],
    ['an empty key', ''],
    ['only the scheme', 'spiffe://'],
  ])('refuses a key that is %s', (_, key) => {
    const pem = payments.federatedBundles['spiffe://partner.org'] as string;
    expect(() => X509Svid.fromSecret(withFederatedKeys(payments, { [key]: pem }))).toThrow(
      new SvidSecretInvalid(
        `the SVID secret's federatedBundles key ${JSON.stringify(key)} is not a trust domain (spiffe://trust.domain)`,
      ),
    );
  });

  it('refuses a trust domain written both ways, rather than pick one', () => {
    const pem = payments.federatedBundles['spiffe://partner.org'] as string;
    expect(() =>
      X509Svid.fromSecret(withFederatedKeys(payments, { 'spiffe://partner.org': pem, 'partner.org': pem })),
    ).toThrow(
      new SvidSecretInvalid(
        'the SVID secret\'s federatedBundles names trust domain partner.org twice ("spiffe://partner.org" and "partner.org")',
      ),
    );
  });
});

describe('a value without bundle', () => {
  it('parses, holding the federated bundles only', () => {
    const svid = X509Svid.fromSecret(secretBinary(paymentsWithoutBundle));
    expect(svid.spiffeId).toBe(PAYMENTS);
    expect([...svid.bundles.keys()]).toEqual(['partner.org']);
    // An empty string is what Go's decoder makes of an omitted field: read alike.
    const empty = X509Svid.fromSecret(JSON.stringify({ ...json(paymentsWithoutBundle), bundle: '' }));
    expect([...empty.bundles.keys()]).toEqual(['partner.org']);
  });

  it('calls a federated server on the allow-list, and is refused by one off it', async () => {
    const client = clientFor(paymentsWithoutBundle);
    const allowed = await call(partner.port, await client.httpsAgent([PARTNER_API]));
    const refused = await call(partner.port, await client.httpsAgent(['spiffe://partner.org/other/*']));
    client.close();
    expect(allowed).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
    expect((refused as { error: Error }).error).toEqual(
      new PeerNotAuthorized(`the peer ${PARTNER_API} is not on the allow-list`),
    );
  });

  it('serves federated callers', async () => {
    const service = await startMeshService(
      await domains.secret('partner', PARTNER_BILLING, {
        federated: { 'example.org': 'ours' },
        bundle: false,
      }),
      [PAYMENTS],
    );
    const client = clientFor(payments);
    const outcome = await call(service.port, await client.httpsAgent([PARTNER_BILLING]));
    client.close();
    await service.close();
    expect(outcome).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
  });

  it('cannot verify a peer of its own trust domain: a clear error when an agent or server is asked for', async () => {
    const client = clientFor(paymentsWithoutBundle);
    await expect(client.svid()).resolves.toBeInstanceOf(X509Svid);
    const message =
      'the allow-list names our own trust domain example.org, but the SVID secret has no bundle ' +
      '(SPIRE leaves it out when it has none), so no peer of example.org can be verified';
    await expect(client.httpsAgent([OUR_SERVICE])).rejects.toThrow(new InvalidSvidClientOption(message));
    await expect(client.mtlsServer([PARTNER_API, 'spiffe://example.org/*'])).rejects.toThrow(
      new InvalidSvidClientOption(message),
    );
    client.close();
  });
});
