import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSvidKeyAndCsr } from '../../../../functions/shared/domain/svid-key';
import { spiffeIdOf } from '../../../../client/spiffe/x509-svid';
import { checkX509Svid } from '../../../../functions/shared/domain/svid-rules';
import { SoftwareCertificateAuthority } from '../../../../local-stack/stand-ins/software-ca/software-ca';

/** Two workloads speaking mTLS with SVIDs, each authorizing the other by the SPIFFE ID in its certificate. */

const serverId = 'spiffe://example.org/prod/keywhiz';
const clientId = 'spiffe://example.org/prod/payments';

interface Svid {
  key: string;
  cert: string;
}

let dir: string;
let bundle: string[];
let serverSvid: Svid;
let clientSvid: Svid;
let foreignServerSvid: Svid;
let foreignClientSvid: Svid;

async function issue(ca: SoftwareCertificateAuthority, spiffeId: string): Promise<Svid> {
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const { certificatePem } = await ca.issue({ csrPem, spiffeId, notBefore: new Date(Date.now() - 60_000) });
  return { key: privateKeyPem, cert: certificatePem };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mtls-'));
  const ca = await SoftwareCertificateAuthority.open(join(dir, 'ca'), 'example.org');
  const foreign = await SoftwareCertificateAuthority.open(join(dir, 'foreign'), 'example.org');
  bundle = await ca.bundle();
  [serverSvid, clientSvid, foreignServerSvid, foreignClientSvid] = await Promise.all([
    issue(ca, serverId),
    issue(ca, clientId),
    issue(foreign, serverId),
    issue(foreign, clientId),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Exchange {
  /** What the client read: the server's greeting naming the client's SPIFFE ID. */
  received: string;
  clientError?: Error;
  /** Connections the server accepted as authenticated TLS, by client SPIFFE ID. */
  accepted: string[];
  serverErrors: string[];
}

/**
 * One connection: the server requires a client SVID from the bundle and answers only the allowed
 * SPIFFE ID; the client requires the expected server SPIFFE ID instead of a host name.
 */
async function exchange(options: {
  server: Svid;
  client: Svid;
  expectedServerId: string;
  allowedClientId: string;
}): Promise<Exchange> {
  const serverErrors: string[] = [];
  const accepted: string[] = [];
  const server = tls.createServer(
    {
      key: options.server.key,
      cert: options.server.cert,
      ca: bundle,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      const peerId = peer ? spiffeIdOf(peer.raw) : 'no client certificate';
      accepted.push(peerId);
      if (peerId !== options.allowedClientId) {
        serverErrors.push(`client ${peerId} is not allowed`);
        socket.destroy();
        return;
      }
      socket.end(`hello ${peerId}`);
    },
  );
  server.on('tlsClientError', (error) => serverErrors.push(error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  try {
    return await new Promise<Exchange>((resolve) => {
      let received = '';
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        key: options.client.key,
        cert: options.client.cert,
        ca: bundle,
        // SVIDs name workloads, not hosts: the server is authorized by its SPIFFE ID.
        checkServerIdentity: (_host, cert) => {
          const id = spiffeIdOf(cert.raw);
          return id === options.expectedServerId
            ? undefined
            : new Error(`server is ${id}, expected ${options.expectedServerId}`);
        },
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('error', (clientError) => resolve({ received, clientError, accepted, serverErrors }));
      socket.on('close', () => resolve({ received, accepted, serverErrors }));
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('mTLS between two SVIDs', () => {
  it('the SVIDs used here are valid X509-SVIDs', async () => {
    for (const [svid, id] of [
      [serverSvid, serverId],
      [clientSvid, clientId],
    ] as const) {
      expect(
        await checkX509Svid(svid.cert, { expectedSpiffeId: id, bundlePem: bundle, privateKeyPem: svid.key }),
      ).toEqual([]);
    }
  });

  it('succeeds when each side presents the SPIFFE ID the other expects', async () => {
    const result = await exchange({
      server: serverSvid,
      client: clientSvid,
      expectedServerId: serverId,
      allowedClientId: clientId,
    });
    expect(result).toEqual({ received: `hello ${clientId}`, accepted: [clientId], serverErrors: [] });
  });

  it('fails at the client when the server is not the expected SPIFFE ID', async () => {
    const result = await exchange({
      server: serverSvid,
      client: clientSvid,
      expectedServerId: 'spiffe://example.org/prod/other',
      allowedClientId: clientId,
    });
    expect(result.clientError?.message).toBe(
      `server is ${serverId}, expected spiffe://example.org/prod/other`,
    );
    expect(result.received).toBe('');
  });

  it('fails at the server when the client is not the allowed SPIFFE ID', async () => {
    const result = await exchange({
      server: serverSvid,
      client: clientSvid,
      expectedServerId: serverId,
      allowedClientId: 'spiffe://example.org/prod/orders',
    });
    expect(result.received).toBe('');
    expect(result.serverErrors).toEqual([`client ${clientId} is not allowed`]);
  });

  it('fails when the server certificate comes from another CA', async () => {
    const result = await exchange({
      server: foreignServerSvid,
      client: clientSvid,
      expectedServerId: serverId,
      allowedClientId: clientId,
    });
    expect(result.clientError).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(result.received).toBe('');
  });

  it('fails when the client certificate comes from another CA', async () => {
    const result = await exchange({
      server: serverSvid,
      client: foreignClientSvid,
      expectedServerId: serverId,
      allowedClientId: clientId,
    });
    expect(result.received).toBe('');
    // TLS 1.3 finishes the client's side first; the server then refuses the unverifiable certificate.
    expect(result.accepted).toEqual([]);
    expect(result.serverErrors).not.toEqual([]);
  });
});
