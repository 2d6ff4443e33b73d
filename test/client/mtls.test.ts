import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PeerNotAuthorized, SvidExpired } from '../../client';
import type { SpireSvidSecret } from '../../client/spiffe/spire-secret';
import { call, clientFor, type MeshService, startMeshService } from '../support/mesh-service';
import { TestTrustDomains } from '../support/test-svids';

/**
 * A function calling a mesh service over mTLS through the client's agent; the service authorizes callers
 * with the client's server helper. Real SVIDs from test CAs, real TLS on 127.0.0.1.
 */

const SERVICE = 'spiffe://example.org/prod/mesh-service';
const PAYMENTS = 'spiffe://example.org/prod/payments';
const ORDERS = 'spiffe://example.org/prod/orders';
const PARTNER_API = 'spiffe://partner.org/prod/api';

let domains: TestTrustDomains;

let service: MeshService;
let payments: SpireSvidSecret;

beforeAll(async () => {
  domains = await TestTrustDomains.create({
    ours: 'example.org',
    partner: 'partner.org',
    rogue: 'example.org',
  });
  payments = await domains.secret('ours', PAYMENTS);
  service = await startMeshService(await domains.secret('ours', SERVICE), [PAYMENTS]);
});

afterAll(async () => {
  await service.close();
  await domains.close();
});

describe('a function calling a mesh service through the client', () => {
  it("succeeds when each side is on the other one's allow-list", async () => {
    const client = clientFor(payments);
    const outcome = await call(service.port, await client.httpsAgent([SERVICE]));
    client.close();
    expect(outcome).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
  });

  it('accepts a server allowed by a path pattern', async () => {
    const client = clientFor(payments);
    const outcome = await call(service.port, await client.httpsAgent(['spiffe://example.org/prod/*']));
    client.close();
    expect(outcome).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
  });

  it('is refused with 403 by the server when the caller is not on its list', async () => {
    const client = clientFor(await domains.secret('ours', ORDERS));
    const outcome = await call(service.port, await client.httpsAgent([SERVICE]));
    client.close();
    expect(outcome).toEqual({ status: 403, body: `the peer ${ORDERS} is not on the allow-list` });
    expect(service.seen.at(-1)).toBe(`refused: the peer ${ORDERS} is not on the allow-list`);
  });

  it('refuses, at the caller, a server that is not on its list, before sending anything', async () => {
    const before = service.seen.length;
    const client = clientFor(payments);
    const outcome = await call(service.port, await client.httpsAgent(['spiffe://example.org/prod/other']));
    client.close();
    expect(outcome).toEqual({ error: expect.any(PeerNotAuthorized) });
    expect((outcome as { error: Error }).error.message).toBe(`the peer ${SERVICE} is not on the allow-list`);
    expect(service.seen.length).toBe(before);
  });

  it('refuses a server certified by a federated CA for our own trust domain', async () => {
    // The rogue CA signs example.org IDs; it is trusted only as partner.org's bundle.
    const impostor = await startMeshService(
      await domains.secret('rogue', SERVICE, { federated: { 'example.org': 'ours' } }),
      [PAYMENTS],
    );
    const client = clientFor(
      await domains.secret('ours', PAYMENTS, { federated: { 'partner.org': 'rogue' } }),
    );
    const outcome = await call(impostor.port, await client.httpsAgent([SERVICE, 'spiffe://partner.org/*']));
    client.close();
    await impostor.close();
    expect((outcome as { error: Error }).error).toEqual(
      new PeerNotAuthorized(`the peer ${SERVICE} is not certified by its trust domain's bundle`),
    );
    expect(impostor.seen).toEqual([]);
  });

  it('reaches a federated partner when its trust domain is on the list', async () => {
    const partner = await startMeshService(
      await domains.secret('partner', PARTNER_API, { federated: { 'example.org': 'ours' } }),
      ['spiffe://example.org/*'],
    );
    const client = clientFor(
      await domains.secret('ours', PAYMENTS, { federated: { 'partner.org': 'partner' } }),
    );
    const outcome = await call(partner.port, await client.httpsAgent([PARTNER_API]));
    client.close();
    await partner.close();
    expect(outcome).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
  });

  it('does not trust a federated bundle that no allow-list entry needs', async () => {
    const partner = await startMeshService(
      await domains.secret('partner', PARTNER_API, { federated: { 'example.org': 'ours' } }),
      [PAYMENTS],
    );
    const client = clientFor(
      await domains.secret('ours', PAYMENTS, { federated: { 'partner.org': 'partner' } }),
    );
    const outcome = await call(partner.port, await client.httpsAgent([SERVICE]));
    client.close();
    await partner.close();
    expect((outcome as { error: NodeJS.ErrnoException }).error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

describe('an expired SVID', () => {
  const dayAndAHourAgo = () => new Date(Date.now() - 25 * 3_600_000);

  it('is never presented by the client: no agent, no connection', async () => {
    const before = service.seen.length + service.tlsErrors.length;
    const client = clientFor(await domains.secret('ours', PAYMENTS, { notBefore: dayAndAHourAgo() }));
    await expect(client.httpsAgent([SERVICE])).rejects.toThrow(SvidExpired);
    expect(service.seen.length + service.tlsErrors.length).toBe(before);
  });

  it('is refused by the server in the TLS handshake when presented anyway', async () => {
    /** A plain agent presenting whatever it is given, as a client not using the library would. */
    const presenting = (secret: SpireSvidSecret) =>
      new Agent({
        cert: secret.x509SVID,
        key: secret.x509SVIDKey,
        ca: secret.bundle,
        checkServerIdentity: () => undefined,
      });
    const valid = presenting(payments);
    const expired = presenting(await domains.secret('ours', PAYMENTS, { notBefore: dayAndAHourAgo() }));
    // The control: the same kind of agent with a valid SVID is served.
    expect(await call(service.port, valid)).toEqual({ status: 200, body: `hello ${PAYMENTS}` });
    const before = service.seen.length;
    const outcome = await call(service.port, expired);
    valid.destroy();
    expired.destroy();
    // TLS 1.3: the client's side of the handshake is done first; node:tls then drops the connection
    // without a word, so the caller sees a reset and the handler never runs.
    expect(outcome).toEqual({ error: expect.objectContaining({ code: 'ECONNRESET' }) });
    expect(service.seen.length).toBe(before);
  });
});
