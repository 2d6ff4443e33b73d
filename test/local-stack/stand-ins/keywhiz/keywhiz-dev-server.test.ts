import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  parseSecretDelivery,
  parseSecretListing,
} from '../../../../functions/shared/domain/keywhiz-responses';
import { createSvidKeyAndCsr } from '../../../../functions/shared/domain/svid-key';
import { spiffeIdOf } from '../../../../client/spiffe/x509-svid';
import { KeywhizDevServer } from '../../../../local-stack/stand-ins/keywhiz/keywhiz-dev-server';
import { SoftwareCertificateAuthority } from '../../../../local-stack/stand-ins/software-ca/software-ca';

const TRUST_DOMAIN = 'example.org';
const services = new Map([
  [`spiffe://${TRUST_DOMAIN}/prod/alpha`, 'alpha'],
  [`spiffe://${TRUST_DOMAIN}/prod/beta`, 'beta'],
  [`spiffe://${TRUST_DOMAIN}/prod/payments`, 'payments'],
  [`spiffe://${TRUST_DOMAIN}/prod/ledger`, 'ledger'],
]);

interface Svid {
  cert: string;
  key: string;
}

let tmp: string;
let dir: string;
let ca: SoftwareCertificateAuthority;
let bundle: string[];
let server: KeywhizDevServer;
const svids = new Map<string, Svid>();

async function issue(authority: SoftwareCertificateAuthority, spiffeId: string): Promise<Svid> {
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const { certificatePem } = await authority.issue({
    csrPem,
    spiffeId,
    notBefore: new Date(Date.now() - 60_000),
  });
  return { cert: certificatePem, key: privateKeyPem };
}

interface Reply {
  status: number;
  contentType?: string;
  body: unknown;
  /** The SPIFFE ID of the server's certificate. */
  serverId: string;
}

/** One request over its own connection, as the client `who` (an SVID, or none), trusting `trust` for the server. */
function call(
  who: Svid | undefined,
  method: string,
  path: string,
  body?: unknown,
  to: KeywhizDevServer = server,
  trust: string | string[] = to.caPem,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(to.url);
    const req = request(
      // The path as given, not normalized by URL parsing: requests for "..%2F" must reach the server as sent.
      {
        hostname,
        port,
        path,
        method,
        agent: false,
        ca: trust,
        ...(who && { cert: who.cert, key: who.key }),
        // The server is checked below by its SPIFFE ID.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: JSON.parse(text),
            serverId: spiffeIdOf((res.socket as TLSSocket).getPeerX509Certificate()!.raw),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const as = (service: string) => svids.get(service)!;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'keywhiz-dev-'));
  dir = join(tmp, 'secrets');
  ca = await SoftwareCertificateAuthority.open(join(tmp, 'ca'), TRUST_DOMAIN);
  bundle = await ca.bundle();
  const clients: [string, string][] = [...services, [`spiffe://${TRUST_DOMAIN}/prod/stranger`, 'stranger']];
  for (const [id, service] of clients) {
    svids.set(service, await issue(ca, id));
  }
  await mkdir(join(dir, 'alpha'), { recursive: true });
  await mkdir(join(dir, 'beta'), { recursive: true });
  await writeFile(join(dir, 'alpha', 'db-password'), 'alpha-db-value');
  await writeFile(join(dir, 'alpha', 'db-password.metadata.json'), '{"mode":"0400","owner":"alpha"}');
  await writeFile(join(dir, 'alpha', '.hidden'), 'ignored');
  await writeFile(join(dir, 'alpha', 'orphan.metadata.json'), '{}');
  await symlink(join(dir, 'beta', 'beta-token'), join(dir, 'alpha', 'link-to-beta'));
  await writeFile(join(dir, 'beta', 'beta-token'), 'beta-value');
  server = await KeywhizDevServer.start({
    dir,
    ca,
    trustDomain: TRUST_DOMAIN,
    serviceOf: (id) => services.get(id),
  });
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('KeywhizDevServer', () => {
  it('presents a certificate from a CA of its own, not from the SVID issuer, naming 127.0.0.1 and its SPIFFE ID', async () => {
    expect(server.spiffeId).toBe('spiffe://example.org/keywhiz');
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(as('alpha'), 'GET', '/secrets')).serverId).toBe(server.spiffeId);
    const own = new X509Certificate(server.caPem);
    const svidRoot = new X509Certificate(bundle[0]!);
    expect(own.ca).toBe(true);
    expect(own.subject).not.toBe(svidRoot.subject);
    // Trusting only the SVID bundle, as a client that assumed it signs Keywhiz's certificate: refused in the handshake.
    const requests = { ...server.requests };
    await expect(call(as('alpha'), 'GET', '/secrets', undefined, server, bundle)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(server.requests).toEqual(requests);
  });

  it('presents an X509-SVID from the software CA instead, when told (serverCertificate: svid)', async () => {
    const svidServer = await KeywhizDevServer.start({
      dir,
      ca,
      trustDomain: TRUST_DOMAIN,
      serviceOf: (id) => services.get(id),
      serverCertificate: 'svid',
    });
    try {
      expect(svidServer.caPem).toBe(bundle.join('\n'));
      const reply = await call(as('alpha'), 'GET', '/secrets', undefined, svidServer, bundle);
      expect([reply.status, reply.serverId]).toEqual([200, 'spiffe://example.org/keywhiz']);
      await expect(
        call(as('alpha'), 'GET', '/secrets', undefined, svidServer, server.caPem),
      ).rejects.toThrow();
    } finally {
      await svidServer.close();
    }
  });

  it('keeps its own CA across restarts when given a CA directory (key 0600), a new one otherwise', async () => {
    const caDir = join(tmp, 'state', 'keywhiz-ca');
    const caWith = async (given?: string) => {
      const other = await KeywhizDevServer.start({
        dir,
        ca,
        trustDomain: TRUST_DOMAIN,
        serviceOf: (id) => services.get(id),
        ...(given && { caDir: given }),
      });
      try {
        expect((await call(as('alpha'), 'GET', '/secrets', undefined, other)).status).toBe(200);
        return other.caPem;
      } finally {
        await other.close();
      }
    };
    const first = await caWith(caDir);
    expect(await caWith(caDir)).toBe(first);
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(await caWith()).not.toBe(first);
  });

  it('lists the caller’s secrets as Keywhiz does: no content, length 0, upper-case hex checksum, metadata flattened, sidecars and dot files left out', async () => {
    const reply = await call(as('alpha'), 'GET', '/secrets');
    const { mtime } = await stat(join(dir, 'alpha', 'db-password'));

    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.body).toEqual([
      {
        name: 'db-password',
        secret: '',
        secretLength: 0,
        checksum: expect.stringMatching(/^[0-9A-F]{64}$/),
        creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updateDate: mtime.toISOString(),
        isVersioned: false,
        mode: '0400',
        owner: 'alpha',
      },
    ]);
    expect(parseSecretListing(reply.body)).toHaveLength(1);
  });

  it('delivers one secret with base64 content and the listing’s checksum', async () => {
    const [listed] = (await call(as('alpha'), 'GET', '/secrets')).body as [{ checksum: string }];
    const reply = await call(as('alpha'), 'GET', '/secret/db-password');

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      name: 'db-password',
      secret: Buffer.from('alpha-db-value').toString('base64'),
      // With its content, the true length.
      secretLength: 14,
      checksum: listed.checksum,
      mode: '0400',
    });
    expect(Buffer.from(parseSecretDelivery(reply.body).content).toString()).toBe('alpha-db-value');
  });

  it('answers 404 for a secret nobody has and for a name no secret can have, 403 for another service’s', async () => {
    const denied = server.requests.denied;
    expect(await call(as('alpha'), 'GET', '/secret/nothing')).toMatchObject({
      status: 404,
      body: { code: 404, message: 'Secret not found: nothing' },
    });
    expect(await call(as('alpha'), 'GET', '/secret/beta-token')).toMatchObject({
      status: 403,
      body: { code: 403, message: 'Access denied to secret: beta-token' },
    });
    expect(server.requests.denied - denied).toBe(1);
    // Names that cannot exist: a path out of the folder, "..", one over 195 characters. Nothing outside is read.
    for (const path of ['/secret/..%2Fbeta%2Fbeta-token', '/secret/%2E%2E', `/secret/${'n'.repeat(196)}`]) {
      expect([path, (await call(as('alpha'), 'GET', path)).status]).toEqual([path, 404]);
    }
    // Not secrets: a sidecar, a dot file, a symbolic link.
    for (const name of ['db-password.metadata.json', '.hidden', 'link-to-beta']) {
      expect((await call(as('alpha'), 'GET', `/secret/${encodeURIComponent(name)}`)).status).toBe(404);
    }
  });

  it('delivers a batch all-or-nothing, each secret once: 404 at the first missing name, 403 naming the forbidden ones', async () => {
    await writeFile(join(dir, 'alpha', 'api-key'), 'alpha-api-value');
    const ok = await call(as('alpha'), 'POST', '/batchsecret', {
      secrets: ['db-password', 'api-key', 'db-password'],
    });
    expect(ok.status).toBe(200);
    expect((ok.body as { name: string }[]).map((s) => s.name)).toEqual(['db-password', 'api-key']);

    expect(
      await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'gone', 'also-gone'] }),
    ).toMatchObject({ status: 404, body: { code: 404, message: 'Secret not found: gone' } });
    // Unknown beats forbidden: the batch stops at the missing name.
    expect(
      (await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['beta-token', 'gone'] })).status,
    ).toBe(404);
    expect(
      await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'beta-token'] }),
    ).toMatchObject({ status: 403, body: { code: 403, message: 'Access denied to secret: beta-token' } });
    expect((await call(as('alpha'), 'POST', '/batchsecret', { names: ['db-password'] })).status).toBe(400);
    expect((await call(as('alpha'), 'GET', '/batchsecret')).status).toBe(405);
  });

  it('refuses an empty batch (400)', async () => {
    expect(await call(as('alpha'), 'POST', '/batchsecret', { secrets: [] })).toMatchObject({
      status: 400,
      body: { code: 400 },
    });
  });

  it('answers 401 to a client whose SPIFFE ID maps to no client, on every endpoint', async () => {
    const before = { ...server.requests };
    for (const [method, path, body] of [
      ['GET', '/secrets', undefined],
      ['GET', '/secret/db-password', undefined],
      ['POST', '/batchsecret', { secrets: ['db-password'] }],
    ] as const) {
      expect(await call(as('stranger'), method, path, body)).toMatchObject({
        status: 401,
        body: {
          code: 401,
          message: `client spiffe://${TRUST_DOMAIN}/prod/stranger is not a Keywhiz client here`,
        },
      });
    }
    expect(server.requests.unauthorized - before.unauthorized).toBe(3);
    expect(server.requests.denied).toBe(before.denied);
  });

  it('lets a test act before an answer, or answer a status instead (beforeAnswer)', async () => {
    const seen: unknown[] = [];
    server.beforeAnswer = (request) => {
      seen.push(request);
      return request.names.includes('api-key') ? 500 : undefined;
    };
    try {
      expect((await call(as('alpha'), 'GET', '/secrets')).status).toBe(200);
      expect((await call(as('alpha'), 'GET', '/secret/db-password')).status).toBe(200);
      expect(
        (await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'api-key'] })).status,
      ).toBe(500);
      // Only authorized callers get that far.
      expect((await call(as('stranger'), 'GET', '/secrets')).status).toBe(401);
    } finally {
      server.beforeAnswer = undefined;
    }
    expect(seen).toEqual([
      { endpoint: 'list', service: 'alpha', names: [] },
      { endpoint: 'single', service: 'alpha', names: ['db-password'] },
      { endpoint: 'batch', service: 'alpha', names: ['db-password', 'api-key'] },
    ]);
    expect((await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['api-key'] })).status).toBe(200);
  });

  it('requires a client certificate from its CA', async () => {
    const foreign = await SoftwareCertificateAuthority.open(join(tmp, 'foreign-ca'), TRUST_DOMAIN);
    const impostor = await issue(foreign, `spiffe://${TRUST_DOMAIN}/prod/alpha`);
    const requests = { ...server.requests };

    await expect(call(undefined, 'GET', '/secrets')).rejects.toThrow();
    await expect(call(impostor, 'GET', '/secrets')).rejects.toThrow();
    expect(server.requests).toEqual(requests);
  });

  it('serves an edited file at once, with a new checksum', async () => {
    const path = join(dir, 'beta', 'rotating');
    await writeFile(path, 'value-one');
    const checksum = async () =>
      ((await call(as('beta'), 'GET', '/secrets')).body as { name: string; checksum: string }[]).find(
        (s) => s.name === 'rotating',
      )?.checksum;
    const first = await checksum();
    expect(await checksum()).toBe(first);

    await writeFile(path, 'value-two, longer');
    const second = await checksum();
    const delivered = (await call(as('beta'), 'GET', '/secret/rotating')).body as {
      secret: string;
      checksum: string;
    };

    expect(second).not.toBe(first);
    expect(delivered.checksum).toBe(second);
    expect(Buffer.from(delivered.secret, 'base64').toString()).toBe('value-two, longer');
  });

  it('keeps checksums across restarts when given a checksum key file, not otherwise', async () => {
    const keyFile = join(tmp, 'state', 'checksum.key');
    const checksumWith = async (checksumKeyFile?: string) => {
      const other = await KeywhizDevServer.start({
        dir,
        ca,
        trustDomain: TRUST_DOMAIN,
        serviceOf: (id) => services.get(id),
        ...(checksumKeyFile && { checksumKeyFile }),
      });
      try {
        return (
          (await call(as('alpha'), 'GET', '/secret/db-password', undefined, other)).body as {
            checksum: string;
          }
        ).checksum;
      } finally {
        await other.close();
      }
    };

    const first = await checksumWith(keyFile);
    expect(await checksumWith(keyFile)).toBe(first);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await checksumWith()).not.toBe(first);
  });

  it('closes promptly with a kept-alive connection open', async () => {
    const other = await KeywhizDevServer.start({
      dir,
      ca,
      trustDomain: TRUST_DOMAIN,
      serviceOf: () => 'alpha',
    });
    const agent = new Agent({
      keepAlive: true,
      ca: other.caPem,
      cert: as('alpha').cert,
      key: as('alpha').key,
    });
    await new Promise<void>((resolve, reject) =>
      request(`${other.url}/secrets`, { agent, checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end(),
    );
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  it('serves the sample tree: payments and ledger, a versioned name, a binary secret, sidecar metadata', async () => {
    const samples = await KeywhizDevServer.start({
      dir: 'samples/keywhiz',
      ca,
      trustDomain: TRUST_DOMAIN,
      serviceOf: (id) => services.get(id),
    });
    try {
      const payments = (await call(as('payments'), 'GET', '/secrets', undefined, samples)).body;
      expect(parseSecretListing(payments).map((s) => [s.name, s.metadata])).toEqual(
        expect.arrayContaining([
          ['Database_Password', {}],
          ['General_Password..0be68f903f8b7d86', {}],
          ['stripe-api-key', { mode: '0400', owner: 'payments', group: 'payments' }],
        ]),
      );
      const ledger = await call(
        as('ledger'),
        'POST',
        '/batchsecret',
        { secrets: ['signing-key.der'] },
        samples,
      );
      const [signingKey] = (ledger.body as unknown[]).map((s) => parseSecretDelivery(s));
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(signingKey!.content)).toThrow();
      expect((await call(as('payments'), 'GET', '/secret/ledger.pgpass', undefined, samples)).status).toBe(
        403,
      );
    } finally {
      await samples.close();
    }
  });
});
