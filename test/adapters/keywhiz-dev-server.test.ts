import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseSecretDelivery, parseSecretListing } from '../../functions/shared/domain/keywhiz-responses';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { spiffeIdOf } from '../../functions/shared/domain/svid-rules';
import { KeywhizDevServer } from '../../local-stack/stand-ins/keywhiz-dev-server';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca';

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

/** One request over its own connection, as the client `who` (an SVID, or none). */
function call(
  who: Svid | undefined,
  method: string,
  path: string,
  body?: unknown,
  to: KeywhizDevServer = server,
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
        ca: bundle,
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
  it('presents its own X509-SVID, spiffe://<trust domain>/keywhiz, on 127.0.0.1', async () => {
    expect(server.spiffeId).toBe('spiffe://example.org/keywhiz');
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(as('alpha'), 'GET', '/secrets')).serverId).toBe(server.spiffeId);
  });

  it('lists the caller’s secrets as Keywhiz does: no content, metadata flattened, sidecars and dot files left out', async () => {
    const reply = await call(as('alpha'), 'GET', '/secrets');
    const { mtime } = await stat(join(dir, 'alpha', 'db-password'));

    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.body).toEqual([
      {
        name: 'db-password',
        secret: '',
        secretLength: 14,
        checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
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
      checksum: listed.checksum,
      mode: '0400',
    });
    expect(Buffer.from(parseSecretDelivery(reply.body).content).toString()).toBe('alpha-db-value');
  });

  it('answers 404 for a secret nobody has, 403 for another service’s, 400 for a name that leaves the folder', async () => {
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
    expect((await call(as('alpha'), 'GET', '/secret/..%2Fbeta%2Fbeta-token')).status).toBe(400);
    expect((await call(as('alpha'), 'GET', '/secret/%2E%2E')).status).toBe(400);
    // Not secrets: a sidecar, a dot file, a symbolic link.
    for (const name of ['db-password.metadata.json', '.hidden', 'link-to-beta']) {
      expect((await call(as('alpha'), 'GET', `/secret/${encodeURIComponent(name)}`)).status).toBe(404);
    }
  });

  it('delivers a batch all-or-nothing', async () => {
    await writeFile(join(dir, 'alpha', 'api-key'), 'alpha-api-value');
    const ok = await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'api-key'] });
    expect(ok.status).toBe(200);
    expect((ok.body as { name: string }[]).map((s) => s.name)).toEqual(['db-password', 'api-key']);

    expect(
      await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'gone'] }),
    ).toMatchObject({
      status: 404,
      body: { code: 404 },
    });
    expect(
      await call(as('alpha'), 'POST', '/batchsecret', { secrets: ['db-password', 'beta-token'] }),
    ).toMatchObject({ status: 403, body: { code: 403 } });
    expect((await call(as('alpha'), 'POST', '/batchsecret', { names: ['db-password'] })).status).toBe(400);
    expect((await call(as('alpha'), 'GET', '/batchsecret')).status).toBe(405);
  });

  it('refuses a client whose SPIFFE ID maps to no service, on every endpoint', async () => {
    const denied = server.requests.denied;
    for (const [method, path, body] of [
      ['GET', '/secrets', undefined],
      ['GET', '/secret/db-password', undefined],
      ['POST', '/batchsecret', { secrets: ['db-password'] }],
    ] as const) {
      expect(await call(as('stranger'), method, path, body)).toMatchObject({
        status: 403,
        body: {
          code: 403,
          message: `client spiffe://${TRUST_DOMAIN}/prod/stranger is not a Keywhiz client here`,
        },
      });
    }
    expect(server.requests.denied - denied).toBe(3);
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
    const agent = new Agent({ keepAlive: true, ca: bundle, cert: as('alpha').cert, key: as('alpha').key });
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
