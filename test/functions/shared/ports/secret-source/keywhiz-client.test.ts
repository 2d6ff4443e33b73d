import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../../../functions/shared/config';
import { settings } from '../../../../../functions/sync-agent/sync-agent';
import { LOCAL_ENV, localConfig } from '../../../../../local-stack/local-config';
import {
  InvalidConfiguration,
  InvalidKeywhizResponse,
  KeywhizUnavailable,
  SecretAccessDenied,
} from '../../../../../functions/shared/domain/errors';
import {
  parseBatchDelivery,
  parseSecretDelivery,
  parseSecretListing,
} from '../../../../../functions/shared/domain/keywhiz-responses';
import { createSvidKeyAndCsr } from '../../../../../functions/shared/domain/svid-key';
import {
  KeywhizClient,
  keywhizSecretSource,
} from '../../../../../functions/shared/ports/secret-source/keywhiz-client';
import { SecretsManagerKeywhizServerCa } from '../../../../../functions/shared/ports/secret-source/keywhiz-server-ca';
import { KeywhizDevServer } from '../../../../../local-stack/stand-ins/keywhiz/keywhiz-dev-server';
import { probeSecretsManager } from '../../../../../bench/secrets-manager-probe';
import { LocalSecretsManager } from '../../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { SoftwareCertificateAuthority } from '../../../../../local-stack/stand-ins/software-ca/software-ca';
import type {
  KeywhizCredentials,
  KeywhizServerCa,
} from '../../../../../functions/shared/ports/secret-source/secret-source';

const FIXTURES = new URL('../../../../fixtures/keywhiz/', import.meta.url);
/** The team's originals, beside the repository on its machines and in CI. */
const ORIGINALS = new URL('../../../../../../shared/fixtures/keywhiz/', import.meta.url);
const FIXTURE_FILES = [
  'secretDeliveryResponse.json',
  'secretDeliveryResponseWithMetadata.json',
  'v2_secretContentsResponse.json',
  'v2_secretDetailResponse.json',
  'keysync/secret_Nobody_PgPass.json',
  'keysync/secrets.json',
];
const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8'));

(existsSync(ORIGINALS) ? it : it.skip)('the fixture copies equal the originals in ../shared', () => {
  for (const path of FIXTURE_FILES) {
    expect(readFileSync(new URL(path, FIXTURES), 'utf8')).toBe(
      readFileSync(new URL(path, ORIGINALS), 'utf8'),
    );
  }
});

const utf8 = (text: string) => new Uint8Array(Buffer.from(text));

describe('Keywhiz response parsers, on real Keywhiz bodies', () => {
  it('reads a delivery: content decoded, checksum and dates as given, no metadata', () => {
    expect(parseSecretDelivery(fixture('secretDeliveryResponse.json'))).toEqual({
      name: 'Database_Password',
      content: utf8('asddas'),
      secretLength: 6,
      checksum: 'database_checksum',
      creationDate: '2011-09-29T15:46:00.000Z',
      updateDate: '2012-09-29T16:34:00.000Z',
      metadata: {},
    });
  });

  it('keeps metadata flattened into the top level', () => {
    expect(parseSecretDelivery(fixture('secretDeliveryResponseWithMetadata.json'))).toMatchObject({
      name: 'Nobody_PgPass',
      checksum: 'nobody_checksum',
      metadata: { mode: '0400', owner: 'nobody' },
    });
    expect(parseSecretDelivery(fixture('keysync/secret_Nobody_PgPass.json'))).toEqual({
      name: 'Nobody_PgPass',
      content: utf8('asddas'),
      secretLength: 6,
      creationDate: '2011-09-29T15:46:00.232Z',
      metadata: { mode: '0400', owner: 'nobody', group: 'nobody' },
    });
  });

  it('reads keysync’s listing as metadata only, dropping the content it carries', () => {
    const listing = parseSecretListing(fixture('keysync/secrets.json'));

    expect(listing).toEqual([
      {
        name: 'Nobody_PgPass',
        secretLength: 6,
        creationDate: '2011-09-29T15:46:00.232Z',
        metadata: { mode: '0400', owner: 'nobody' },
      },
      {
        name: 'General_Password..0be68f903f8b7d86',
        secretLength: 6,
        creationDate: '2011-09-29T15:46:00.312Z',
        metadata: {},
      },
    ]);
    expect(JSON.stringify(listing)).not.toContain('YXNkZGFz');
  });

  it('reads the same array as a batch delivery, with content', () => {
    const batch = parseBatchDelivery(fixture('keysync/secrets.json'));
    expect(batch.map((s) => [s.name, Buffer.from(s.content).toString()])).toEqual([
      ['Nobody_PgPass', 'asddas'],
      ['General_Password..0be68f903f8b7d86', 'asddas'],
    ]);
  });

  it('refuses the automation API v2 shapes, which are not the client API', () => {
    expect(() => parseSecretDelivery(fixture('v2_secretDetailResponse.json'))).toThrow(
      new InvalidKeywhizResponse(
        'Keywhiz secret "secret-name": field "secret" is missing: no content was delivered',
      ),
    );
    expect(() => parseSecretListing(fixture('v2_secretContentsResponse.json'))).toThrow(
      new InvalidKeywhizResponse('the listing is not a JSON array'),
    );
    expect(() => parseSecretDelivery(fixture('v2_secretContentsResponse.json'))).toThrow(
      /^Keywhiz response: field "name": /,
    );
  });

  const delivery = { name: 'db', secret: 'c2VjcmV0LXZhbHVl', secretLength: 12 }; // "secret-value"

  it('ignores unknown top-level keys that are not strings', () => {
    expect(
      parseSecretDelivery({ ...delivery, expiry: 0, nested: { a: 'b' }, flags: ['x'], mode: '0400' }),
    ).toEqual({
      name: 'db',
      content: utf8('secret-value'),
      secretLength: 12,
      metadata: { mode: '0400' },
    });
  });

  it('treats null optional fields as absent, as Jackson writes them', () => {
    expect(parseSecretListing([{ name: 'db', secret: null, checksum: null, updateDate: null }])).toEqual([
      { name: 'db', metadata: {} },
    ]);
  });

  it.each([
    [{ ...delivery, secretLength: '12' }, 'Keywhiz secret "db": field "secretLength": '],
    [{ ...delivery, checksum: 7 }, 'Keywhiz secret "db": field "checksum": '],
    [{ ...delivery, updateDate: 'yesterday' }, 'Keywhiz secret "db": field "updateDate": '],
    [{ ...delivery, isVersioned: 'no' }, 'Keywhiz secret "db": field "isVersioned": '],
    [{ ...delivery, name: '' }, 'Keywhiz response: field "name": '],
    [{ ...delivery, name: 'n'.repeat(196) }, 'Keywhiz response: field "name": '],
    [{ ...delivery, secret: 'c2VjcmV0!!!' }, 'Keywhiz secret "db": field "secret" is not base64'],
    [
      { ...delivery, secretLength: 11 },
      'Keywhiz secret "db": field "secretLength" says 11 bytes, the content has 12',
    ],
    [[delivery], 'Keywhiz response is not a JSON object'],
  ])('names the field and the secret of a malformed delivery, never the content (%#)', (body, message) => {
    let error: unknown;
    try {
      parseSecretDelivery(body);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidKeywhizResponse);
    expect((error as Error).message.startsWith(message)).toBe(true);
    expect((error as Error).message).not.toMatch(/c2VjcmV0|secret-value/);
  });

  it('names the position of a malformed listing entry', () => {
    expect(() => parseSecretListing([{ name: 'a' }, { secret: '' }])).toThrow(
      /^Keywhiz listing entry 1: field "name": /,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------

const TRUST_DOMAIN = 'example.org';
const alphaId = `spiffe://${TRUST_DOMAIN}/prod/alpha`;
const betaId = `spiffe://${TRUST_DOMAIN}/prod/beta`;
const strangerId = `spiffe://${TRUST_DOMAIN}/prod/stranger`;
const faultId = `spiffe://${TRUST_DOMAIN}/fault`;
const noSleep = async () => undefined;

let tmp: string;
let secretsDir: string;
let ca: SoftwareCertificateAuthority;
let bundlePem: string;
let server: KeywhizDevServer;
let alpha: KeywhizCredentials;
let beta: KeywhizCredentials;
let stranger: KeywhizCredentials;
const clients: KeywhizClient[] = [];

async function svid(spiffeId: string): Promise<{ cert: string; key: string }> {
  const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
  const { certificatePem } = await ca.issue({ csrPem, spiffeId, notBefore: new Date(Date.now() - 60_000) });
  return { cert: certificatePem, key: privateKeyPem };
}

async function credentials(spiffeId: string): Promise<KeywhizCredentials> {
  const { cert, key } = await svid(spiffeId);
  return { certificateChainPem: cert, privateKeyPem: key };
}

/** A client of the dev server, trusting Keywhiz's own CA as the agent does. */
function client(
  who: KeywhizCredentials,
  options: Partial<ConstructorParameters<typeof KeywhizClient>[0]> = {},
): KeywhizClient {
  const made = new KeywhizClient({
    baseUrl: server.url,
    credentials: who,
    serverCaPem: server.caPem,
    serverSpiffeId: server.spiffeId,
    timeoutMs: 2000,
    maxAttempts: 3,
    sleep: noSleep,
    ...options,
  });
  clients.push(made);
  return made;
}

const write = (service: string, name: string, content: string | Uint8Array) =>
  writeFile(join(secretsDir, service, name), content);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'keywhiz-client-'));
  secretsDir = join(tmp, 'secrets');
  await mkdir(join(secretsDir, 'alpha'), { recursive: true });
  await mkdir(join(secretsDir, 'beta'), { recursive: true });
  ca = await SoftwareCertificateAuthority.open(join(tmp, 'ca'), TRUST_DOMAIN);
  bundlePem = (await ca.bundle()).join('\n');
  const services = new Map([
    [alphaId, 'alpha'],
    [betaId, 'beta'],
  ]);
  server = await KeywhizDevServer.start({
    dir: secretsDir,
    ca,
    trustDomain: TRUST_DOMAIN,
    serviceOf: (id) => services.get(id),
  });
  [alpha, beta, stranger] = await Promise.all([
    credentials(alphaId),
    credentials(betaId),
    credentials(strangerId),
  ]);
  await write('alpha', 'db-password', 'alpha-db-value');
  await write('alpha', 'db-password.metadata.json', JSON.stringify({ mode: '0400', owner: 'alpha' }));
  await write('alpha', 'General_Password..0be68f903f8b7d86', 'versioned-value');
  await write('alpha', 'signing-key.der', new Uint8Array([0x30, 0xff, 0xfe, 0x00, 0x80]));
  await write('alpha', '.hidden', 'not a secret');
  await write('beta', 'beta-token', 'beta-value');
});

afterEach(() => {
  for (const made of clients.splice(0)) made.close();
});

afterAll(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('KeywhizClient against the Keywhiz dev server (mTLS, SPIFFE IDs)', () => {
  it('lists only its own service’s secrets, with checksums and metadata, never content', async () => {
    const keywhiz = client(alpha);
    const listing = await keywhiz.list();

    expect(listing.map((s) => s.name).sort()).toEqual([
      'General_Password..0be68f903f8b7d86',
      'db-password',
      'signing-key.der',
    ]);
    const db = listing.find((s) => s.name === 'db-password');
    expect(db).toEqual({
      name: 'db-password',
      checksum: expect.stringMatching(/^[0-9A-F]{64}$/),
      creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updateDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      // As Keywhiz lists: the length is given with the content only.
      secretLength: 0,
      metadata: { mode: '0400', owner: 'alpha' },
    });
    expect(JSON.stringify(listing)).not.toContain('alpha-db-value');
    expect(keywhiz.calls).toEqual({ list: 1, batch: 0, single: 0 });
  });

  it('fetches content in one batch, binary content byte for byte', async () => {
    const keywhiz = client(alpha);
    const { secrets: found, failed } = await keywhiz.fetch([
      'db-password',
      'signing-key.der',
      'General_Password..0be68f903f8b7d86',
    ]);

    expect(failed.size).toBe(0);
    expect([...found.keys()].sort()).toEqual([
      'General_Password..0be68f903f8b7d86',
      'db-password',
      'signing-key.der',
    ]);
    expect(found.get('db-password')?.content).toEqual(utf8('alpha-db-value'));
    expect(found.get('signing-key.der')?.content).toEqual(new Uint8Array([0x30, 0xff, 0xfe, 0x00, 0x80]));
    expect(found.get('db-password')?.metadata).toEqual({ mode: '0400', owner: 'alpha' });
    expect(keywhiz.calls).toEqual({ list: 0, batch: 1, single: 0 });
    // Nothing asked, nothing sent (Keywhiz refuses an empty batch).
    expect(await keywhiz.fetch([])).toEqual({ secrets: new Map(), failed: new Map() });
    expect(keywhiz.calls.batch).toBe(1);
  });

  it('sees a changed file as a changed checksum, an unchanged one as the same', async () => {
    const keywhiz = client(alpha);
    await write('alpha', 'rotating', 'first-value');
    const checksumOf = async () => (await keywhiz.list()).find((s) => s.name === 'rotating')?.checksum;
    const first = await checksumOf();

    expect(await checksumOf()).toBe(first);
    await write('alpha', 'rotating', 'second-value');
    const second = await checksumOf();

    expect(second).toMatch(/^[0-9A-F]{64}$/);
    expect(second).not.toBe(first);
    const fetched = (await keywhiz.fetch(['rotating'])).secrets.get('rotating');
    expect(fetched?.checksum).toBe(second);
    expect(fetched?.content).toEqual(utf8('second-value'));
    await unlink(join(secretsDir, 'alpha', 'rotating'));
  });

  it('leaves a secret deleted since the listing out of the result (batch 404, then one by one)', async () => {
    const keywhiz = client(alpha);
    await write('alpha', 'short-lived', 'gone-soon');
    expect((await keywhiz.list()).some((s) => s.name === 'short-lived')).toBe(true);
    await unlink(join(secretsDir, 'alpha', 'short-lived'));

    const found = await keywhiz.fetch(['db-password', 'short-lived']);

    expect([...found.secrets.keys()]).toEqual(['db-password']);
    expect(found.failed.size).toBe(0);
    expect(keywhiz.calls).toEqual({ list: 1, batch: 1, single: 2 });
  });

  it('cannot obtain another service’s secret: that one fails with SecretAccessDenied, the others are delivered', async () => {
    const before = server.requests.denied;
    const keywhiz = client(alpha);

    const { secrets, failed } = await keywhiz.fetch(['db-password', 'beta-token']);

    expect([...secrets.keys()]).toEqual(['db-password']);
    expect([...failed.keys()]).toEqual(['beta-token']);
    expect(failed.get('beta-token')).toEqual(
      new SecretAccessDenied(
        'Keywhiz denied secret "beta-token" to this service (GET /secret/beta-token: HTTP 403)',
      ),
    );
    expect(failed.get('beta-token')).toBeInstanceOf(SecretAccessDenied);
    expect(server.requests.denied - before).toBe(2); // the batch, then the single request that names it
    expect((await client(beta).fetch(['beta-token'])).secrets.get('beta-token')?.content).toEqual(
      utf8('beta-value'),
    );
  });

  it('is refused everything when its SPIFFE ID is no Keywhiz client (401): an authorization failure naming it, not retried', async () => {
    const keywhiz = client(stranger);
    const refused = new SecretAccessDenied(
      `Keywhiz at ${server.url} knows no client ${strangerId} (GET /secrets: HTTP 401): register a client with that SPIFFE ID in Keywhiz`,
    );

    await expect(keywhiz.list()).rejects.toThrow(refused);
    expect(keywhiz.calls.list).toBe(1);
    // Not a per-secret failure either: the fetch fails as a whole.
    await expect(keywhiz.fetch(['db-password'])).rejects.toThrow(
      `knows no client ${strangerId} (POST /batchsecret: HTTP 401)`,
    );
    expect(keywhiz.calls).toEqual({ list: 1, batch: 1, single: 0 });
  });

  it('refuses a server whose SPIFFE ID is not the expected one, without retrying', async () => {
    const keywhiz = client(alpha, { serverSpiffeId: `spiffe://${TRUST_DOMAIN}/impostor` });

    const error = await keywhiz.list().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as Error).message).toBe(
      `Keywhiz at ${server.url} is not trusted: the server is ${server.spiffeId}, expected spiffe://${TRUST_DOMAIN}/impostor (check KEYWHIZ_SERVER_SPIFFE_ID, or the host name in KEYWHIZ_URL)`,
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('verifies the host name when no server SPIFFE ID is configured: Keywhiz’s certificate names 127.0.0.1', async () => {
    expect((await client(alpha, { serverSpiffeId: undefined }).list()).length).toBe(3);
  });

  it('does not trust Keywhiz through the SVID bundle: its certificate comes from its own CA', async () => {
    let forgotten = 0;
    const keywhiz = client(alpha, {
      serverCaPem: bundlePem,
      serverCaSource: 'KEYWHIZ_SERVER_CA_SECRET trust-bridge/keywhiz-server-ca',
      onServerNotTrusted: () => void forgotten++,
    });
    const requests = { ...server.requests };

    const error = await keywhiz.list().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as Error).message).toBe(
      `Keywhiz at ${server.url} is not trusted: unable to verify the first certificate (check KEYWHIZ_SERVER_CA_SECRET trust-bridge/keywhiz-server-ca: it must hold the CA that signs Keywhiz's certificate, which is not the SVID issuer)`,
    );
    expect(keywhiz.calls.list).toBe(1);
    expect(forgotten).toBe(1);
    // Refused in the handshake: Keywhiz saw no request.
    expect(server.requests).toEqual(requests);
  });

  it('refuses a server certificate from another CA, and trusts nothing by default but public roots', async () => {
    const foreign = await SoftwareCertificateAuthority.open(join(tmp, 'foreign-ca'), TRUST_DOMAIN);
    const keywhiz = client(alpha, { serverCaPem: (await foreign.bundle()).join('\n') });
    await expect(keywhiz.list()).rejects.toThrow(/ is not trusted: unable to verify the first certificate /);
    await expect(client(alpha, { serverCaPem: undefined }).list()).rejects.toBeInstanceOf(
      InvalidConfiguration,
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('talks to a dev server that presents an SVID (the svid option) when told to trust the SVID bundle; an SVID names no host', async () => {
    const svidServer = await KeywhizDevServer.start({
      dir: secretsDir,
      ca,
      trustDomain: TRUST_DOMAIN,
      serviceOf: (id) => (id === alphaId ? 'alpha' : undefined),
      serverCertificate: 'svid',
    });
    try {
      expect(svidServer.caPem).toBe(bundlePem);
      const keywhiz = client(alpha, { baseUrl: svidServer.url, serverCaPem: svidServer.caPem });
      expect((await keywhiz.list()).length).toBe(3);
      // An SVID names no host: without the SPIFFE ID check, the host name check fails.
      const byHost = client(alpha, {
        baseUrl: svidServer.url,
        serverCaPem: svidServer.caPem,
        serverSpiffeId: undefined,
      });
      await expect(byHost.list()).rejects.toThrow(
        / is not trusted: .*\(check KEYWHIZ_SERVER_SPIFFE_ID, or the host name in KEYWHIZ_URL\)$/,
      );
    } finally {
      for (const made of clients.splice(0)) made.close();
      await svidServer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A tiny Keywhiz impostor with a real SVID that answers as each test scripts it. */
async function faultyKeywhiz(handler: Handler): Promise<{ url: string; server: Server; seen: string[] }> {
  const { cert, key } = await svid(faultId);
  const seen: string[] = [];
  const https = createServer({ cert, key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  servers.push(https);
  return { url: `https://127.0.0.1:${(https.address() as AddressInfo).port}`, server: https, seen };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const https of servers.splice(0)) {
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));
  }
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const deliver = (name: string) => ({
  name,
  secret: Buffer.from(`value of ${name}`).toString('base64'),
  checksum: `sum-${name}`,
});

describe('KeywhizClient when Keywhiz misbehaves', () => {
  it('retries 5xx with full-jitter exponential backoff, then succeeds', async () => {
    let failures = 2;
    const fault = await faultyKeywhiz((_req, res) =>
      failures-- > 0 ? json(res, 503, { code: 503, message: 'busy' }) : json(res, 200, [deliver('a')]),
    );
    const sleeps: number[] = [];
    const keywhiz = client(alpha, {
      baseUrl: fault.url,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });

    expect((await keywhiz.list()).map((s) => s.name)).toEqual(['a']);
    expect(keywhiz.calls.list).toBe(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('caps the backoff at 2 s and gives up after maxAttempts with KeywhizUnavailable', async () => {
    const fault = await faultyKeywhiz((_req, res) =>
      json(res, 500, { code: 500, message: 'There was an error' }),
    );
    const sleeps: number[] = [];
    const keywhiz = client(alpha, {
      baseUrl: `${fault.url}/api/`,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      maxAttempts: 7,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.999999,
    });

    await expect(keywhiz.list()).rejects.toThrow(
      new KeywhizUnavailable(
        `GET /api/secrets on ${fault.url}: no good answer after 7 attempts (last: HTTP 500 "There was an error")`,
      ),
    );
    expect(sleeps.map(Math.round)).toEqual([100, 200, 400, 800, 1600, 2000]);
    expect(fault.seen).toEqual(Array(7).fill('GET /api/secrets'));
  });

  it('times out a hanging server on every attempt', async () => {
    const fault = await faultyKeywhiz(() => undefined);
    const keywhiz = client(alpha, {
      baseUrl: fault.url,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      timeoutMs: 100,
      maxAttempts: 2,
    });
    const started = Date.now();

    await expect(keywhiz.fetch(['a'])).rejects.toThrow(
      new KeywhizUnavailable(
        `POST /batchsecret on ${fault.url}: no good answer after 2 attempts (last: ETIMEDOUT: no answer within 100 ms)`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(keywhiz.calls).toEqual({ list: 0, batch: 2, single: 0 });
  });

  it('retries a refused connection, then reports it', async () => {
    const fault = await faultyKeywhiz(() => undefined);
    await new Promise((resolve) => fault.server.close(resolve));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const error = await keywhiz.list().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(KeywhizUnavailable);
    expect((error as Error).message).toMatch(/after 3 attempts \(last: ECONNREFUSED: /);
    expect(keywhiz.calls.list).toBe(3);
  });

  it.each([400, 404])('does not retry HTTP %i', async (status) => {
    const fault = await faultyKeywhiz((_req, res) => json(res, status, { code: status, message: 'no' }));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    await expect(keywhiz.list()).rejects.toThrow(
      new InvalidKeywhizResponse(`GET /secrets: Keywhiz answered HTTP ${status} "no"`),
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('does not retry a 403', async () => {
    const fault = await faultyKeywhiz((_req, res) => json(res, 403, { code: 403, message: 'no' }));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    await expect(keywhiz.list()).rejects.toBeInstanceOf(SecretAccessDenied);
    expect(keywhiz.calls.list).toBe(1);
  });

  it('retries a 429 after its Retry-After (seconds or a date) plus jitter, then succeeds', async () => {
    const retryAfters = ['1', 'Wed, 21 Oct 2015 07:28:00 GMT', undefined];
    const fault = await faultyKeywhiz((_req, res) => {
      if (retryAfters.length === 0) return json(res, 200, [deliver('a')]);
      const retryAfter = retryAfters.shift();
      res.writeHead(429, {
        'content-type': 'application/json',
        ...(retryAfter && { 'retry-after': retryAfter }),
      });
      res.end(JSON.stringify({ code: 429, message: 'Too Many Requests' }));
    });
    const sleeps: number[] = [];
    const keywhiz = client(alpha, {
      baseUrl: fault.url,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      maxAttempts: 4,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });

    expect((await keywhiz.list()).map((s) => s.name)).toEqual(['a']);
    expect(keywhiz.calls.list).toBe(4);
    // 1 s asked, then a date gone by, then nothing asked: the jitter alone (50, 100, 200 ms).
    expect(sleeps).toEqual([1050, 100, 200]);
  });

  it('leaves a Retry-After over 5 s to the workflow: KeywhizUnavailable at once, no sleep', async () => {
    const fault = await faultyKeywhiz((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
      res.end(JSON.stringify({ code: 429, message: 'slow down' }));
    });
    const sleeps: number[] = [];
    const keywhiz = client(alpha, {
      baseUrl: fault.url,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      sleep: async (ms) => void sleeps.push(ms),
    });

    await expect(keywhiz.list()).rejects.toThrow(
      new KeywhizUnavailable(
        `GET /secrets on ${fault.url}: Keywhiz throttled this service and asks it to wait 60 s, more than the 5 s a call waits (last: HTTP 429 "slow down"); the step is retried later`,
      ),
    );
    expect(sleeps).toEqual([]);
    expect(keywhiz.calls.list).toBe(1);
  });

  it('retries throttling, a 503 and a timeout within one call, as the chaos bench injects them', async () => {
    const faults = ['429', '503', 'stall'];
    const fault = await faultyKeywhiz((_req, res, body) => {
      const next = faults.shift();
      if (next === 'stall') return;
      if (next) return json(res, Number(next), { code: Number(next), message: 'chaos' });
      json(res, 200, (JSON.parse(body) as { secrets: string[] }).secrets.map(deliver));
    });
    const keywhiz = client(alpha, {
      baseUrl: fault.url,
      serverSpiffeId: faultId,
      serverCaPem: bundlePem,
      timeoutMs: 200,
      maxAttempts: 4,
    });

    const { secrets, failed } = await keywhiz.fetch(['a', 'b']);
    expect([...secrets.keys()]).toEqual(['a', 'b']);
    expect(failed.size).toBe(0);
    expect(keywhiz.calls).toEqual({ list: 0, batch: 4, single: 0 });
  });

  it('retries a 429 from the Keywhiz dev server (its beforeAnswer hook, which the chaos bench uses)', async () => {
    await write('alpha', 'db-password', 'alpha-db-value');
    let throttles = 2;
    server.beforeAnswer = () => (throttles-- > 0 ? 429 : undefined);
    try {
      const keywhiz = client(alpha);
      const { secrets } = await keywhiz.fetch(['db-password']);
      expect(Buffer.from(secrets.get('db-password')?.content ?? []).toString()).toBe('alpha-db-value');
      expect(keywhiz.calls).toEqual({ list: 0, batch: 3, single: 0 });
    } finally {
      server.beforeAnswer = undefined;
    }
  });

  it('rejects a body that is not JSON or not the documented shape', async () => {
    let body = 'not json';
    const fault = await faultyKeywhiz((_req, res) => res.end(body));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    await expect(keywhiz.list()).rejects.toThrow(
      new InvalidKeywhizResponse('GET /secrets: the answer is not JSON'),
    );
    body = JSON.stringify({ secrets: [] });
    await expect(keywhiz.list()).rejects.toThrow(
      new InvalidKeywhizResponse('the listing is not a JSON array'),
    );
  });

  it('falls back to single requests on a server without batch (405), and stops asking for batches', async () => {
    const fault = await faultyKeywhiz((req, res) => {
      if (req.method === 'POST') return json(res, 405, { code: 405, message: 'HTTP 405 Method Not Allowed' });
      const name = decodeURIComponent(req.url?.slice('/secret/'.length) ?? '');
      return name === 'gone'
        ? json(res, 404, { code: 404, message: 'not found' })
        : json(res, 200, deliver(name));
    });
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const { secrets: found } = await keywhiz.fetch(['a', 'b/c', '..', 'gone']);
    expect([...found.keys()]).toEqual(['a', 'b/c', '..']);
    expect(found.get('b/c')?.content).toEqual(utf8('value of b/c'));
    await keywhiz.fetch(['a']);

    expect(fault.seen).toEqual([
      'POST /batchsecret',
      'GET /secret/a',
      'GET /secret/b%2Fc',
      'GET /secret/..',
      'GET /secret/gone',
      'GET /secret/a',
    ]);
    expect(keywhiz.calls).toEqual({ list: 0, batch: 1, single: 5 });
  });

  it('asks for at most 100 names per batch and checks the answer covers them', async () => {
    const sizes: number[] = [];
    let drop = false;
    const fault = await faultyKeywhiz((_req, res, body) => {
      const { secrets } = JSON.parse(body) as { secrets: string[] };
      sizes.push(secrets.length);
      json(res, 200, (drop ? secrets.slice(1) : secrets).map(deliver));
    });
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });
    const names = Array.from({ length: 150 }, (_, i) => `s${i}`);

    expect((await keywhiz.fetch([...names, 's0'])).secrets.size).toBe(150);
    expect(sizes).toEqual([100, 50]);
    drop = true;
    await expect(keywhiz.fetch(['x', 'y'])).rejects.toThrow(
      new InvalidKeywhizResponse(
        'POST /batchsecret: the answer does not match the request (1 missing, 0 not requested, e.g. "x" missing)',
      ),
    );
  });
});

describe('KeywhizClient when one secret fails on its own', () => {
  /** Answers the batch with `batch`, and each single request for `name` with `single(name)`. */
  const scripted = (
    batch: (names: string[]) => [number, unknown],
    single: (name: string) => [number, unknown],
  ) =>
    faultyKeywhiz((req, res, body) => {
      if (req.method === 'POST') {
        const [status, answer] = batch((JSON.parse(body) as { secrets: string[] }).secrets);
        return json(res, status, answer);
      }
      const [status, answer] = single(decodeURIComponent(req.url?.slice('/secret/'.length) ?? ''));
      return json(res, status, answer);
    });
  const ok = (name: string): [number, unknown] => [200, deliver(name)];

  it('a batch 500 falls back to single requests; a single 500 after its retries fails that secret only', async () => {
    const fault = await scripted(
      () => [500, { code: 500, message: 'There was an error processing your request' }],
      (name) => (name === 'broken' ? [500, { code: 500, message: 'cannot build it' }] : ok(name)),
    );
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const { secrets, failed } = await keywhiz.fetch(['a', 'broken', 'c']);

    expect([...secrets.keys()]).toEqual(['a', 'c']);
    expect([...failed.keys()]).toEqual(['broken']);
    expect(failed.get('broken')).toBeInstanceOf(KeywhizUnavailable);
    expect(failed.get('broken')?.message).toBe(
      `GET /secret/broken on ${fault.url}: Keywhiz could not deliver secret "broken" (last: HTTP 500 "cannot build it")`,
    );
    // The batch is not retried (its 500 names one bad secret); the failing single is, 3 attempts in all.
    expect(fault.seen).toEqual([
      'POST /batchsecret',
      'GET /secret/a',
      'GET /secret/broken',
      'GET /secret/broken',
      'GET /secret/broken',
      'GET /secret/c',
    ]);
  });

  it('a throttled single request is retried; the one that fails on its own (500) still fails alone', async () => {
    let throttles = 2;
    const fault = await scripted(
      () => [500, { code: 500, message: 'There was an error processing your request' }],
      (name) =>
        name === 'broken'
          ? [500, { code: 500, message: 'cannot build it' }]
          : name === 'a' && throttles-- > 0
            ? [429, { code: 429, message: 'Too Many Requests' }]
            : ok(name),
    );
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const { secrets, failed } = await keywhiz.fetch(['a', 'broken', 'c']);

    expect([...secrets.keys()]).toEqual(['a', 'c']);
    expect([...failed.keys()]).toEqual(['broken']);
    expect(keywhiz.calls).toEqual({ list: 0, batch: 1, single: 3 + 3 + 1 });
  });

  it('throttling that outlasts the retries fails the whole fetch (retried by the workflow), not one secret', async () => {
    const fault = await scripted(
      () => [403, { code: 403, message: 'denied' }],
      (name) => (name === 'b' ? [429, { code: 429, message: 'Too Many Requests' }] : ok(name)),
    );
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    await expect(keywhiz.fetch(['a', 'b', 'c'])).rejects.toThrow(
      new KeywhizUnavailable(
        `GET /secret/b on ${fault.url}: no good answer after 3 attempts (last: HTTP 429 "Too Many Requests")`,
      ),
    );
  });

  it('a batch 403 falls back to single requests; the refused one fails alone, a deleted one is left out', async () => {
    const fault = await scripted(
      () => [403, { code: 403, message: "Access denied: alpha to secret(s) '[taken]'" }],
      (name) =>
        name === 'taken'
          ? [403, { code: 403, message: 'Access denied' }]
          : name === 'gone'
            ? [404, { code: 404, message: 'HTTP 404 Not Found' }]
            : ok(name),
    );
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const { secrets, failed } = await keywhiz.fetch(['a', 'taken', 'gone']);

    expect([...secrets.keys()]).toEqual(['a']);
    expect([...failed.keys()]).toEqual(['taken']);
    expect(failed.get('taken')).toBeInstanceOf(SecretAccessDenied);
  });

  it('a malformed batch answer falls back to single requests; a malformed single answer fails that secret only', async () => {
    const fault = await scripted(
      (names) => [200, names.map((n) => (n === 'bad' ? { ...deliver(n), secret: '!!!' } : deliver(n)))],
      (name) =>
        name === 'bad' ? [200, { ...deliver(name), secret: '!!!' }] : name === 'other' ? ok('a') : ok(name),
    );
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId, serverCaPem: bundlePem });

    const { secrets, failed } = await keywhiz.fetch(['a', 'bad', 'other']);

    expect([...secrets.keys()]).toEqual(['a']);
    expect(failed.get('bad')).toEqual(
      new InvalidKeywhizResponse('Keywhiz secret "bad": field "secret" is not base64'),
    );
    expect(failed.get('other')).toEqual(
      new InvalidKeywhizResponse('GET /secret/other: the answer is secret "a", not "other"'),
    );
  });

  it('what fails every secret alike still fails the whole fetch: a 401, or Keywhiz gone', async () => {
    const unauthorized = await scripted(
      () => [403, { code: 403, message: 'denied' }],
      () => [401, { code: 401, message: 'HTTP 401 Unauthorized' }],
    );
    await expect(
      client(alpha, { baseUrl: unauthorized.url, serverSpiffeId: faultId, serverCaPem: bundlePem }).fetch([
        'a',
      ]),
    ).rejects.toThrow(`knows no client ${alphaId} (GET /secret/a: HTTP 401)`);

    let answered = 0;
    const dying = await faultyKeywhiz((req, res) => {
      if (req.method === 'POST') return json(res, 403, { code: 403, message: 'denied' });
      if (answered++ === 0) return json(res, 200, deliver('a'));
      req.socket.destroy();
    });
    const keywhiz = client(alpha, { baseUrl: dying.url, serverSpiffeId: faultId, serverCaPem: bundlePem });
    await expect(keywhiz.fetch(['a', 'b'])).rejects.toBeInstanceOf(KeywhizUnavailable);
  });
});

describe('SecretsManagerKeywhizServerCa (Keywhiz’s CA in the agent’s own account)', () => {
  let store: LocalSecretsManager;
  let n = 0;
  /** A fresh secret name holding `value` (or no secret at all when undefined). */
  const secretWith = async (value: string | undefined): Promise<string> => {
    const name = `keywhiz-server-ca-${n++}`;
    if (value !== undefined) await store.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return name;
  };
  beforeAll(() => {
    store = new LocalSecretsManager({
      dataDir: join(tmp, 'sm'),
      accountId: '111122223333',
      region: 'us-east-1',
    });
  });

  it('reads the PEM bundle once and keeps it for the container’s life, until forgotten', async () => {
    const name = await secretWith(`subject=CN=Keywhiz CA\n${server.caPem}`);
    const reader = new SecretsManagerKeywhizServerCa(store, name);
    const reads = probeSecretsManager(store).calls.GetSecretValue ?? 0;

    expect(await reader.pem()).toBe(server.caPem);
    expect(await reader.pem()).toBe(server.caPem);
    expect((probeSecretsManager(store).calls.GetSecretValue ?? 0) - reads).toBe(1);
    await store.send(new PutSecretValueCommand({ SecretId: name, SecretString: bundlePem }));
    expect(await reader.pem()).toBe(server.caPem);
    reader.forget();
    expect(await reader.pem()).toBe(`${bundlePem.trim()}\n`);
    expect(reader.source).toBe(`KEYWHIZ_SERVER_CA_SECRET ${name}`);
  });

  it.each([
    [
      'missing',
      undefined,
      'no such secret in this account, or it has no current value (ResourceNotFoundException)',
    ],
    [
      'empty',
      ' \n',
      "it is empty; it must hold the PEM certificate(s) of the CA that signs Keywhiz's certificate",
    ],
    ['not PEM', 'keywhiz.example.org:4444', 'it holds no PEM certificate'],
    [
      'a broken certificate',
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
      'PEM certificate 1 is not a valid X.509 certificate',
    ],
  ])('refuses a %s value with InvalidConfiguration naming the secret', async (_what, value, why) => {
    const name = await secretWith(value);
    await expect(new SecretsManagerKeywhizServerCa(store, name).pem()).rejects.toMatchObject({
      name: 'InvalidConfiguration',
      message: `KEYWHIZ_SERVER_CA_SECRET ${name}: ${why}`,
    });
  });

  it('refuses a private key pasted beside the CA without echoing it, and keeps no failure', async () => {
    const { privateKeyPem } = await createSvidKeyAndCsr(alphaId);
    const name = await secretWith(`${server.caPem}${privateKeyPem}`);
    const reader = new SecretsManagerKeywhizServerCa(store, name);

    const error = (await reader.pem().catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect(error.message).toBe(
      `KEYWHIZ_SERVER_CA_SECRET ${name}: it holds a PEM block that is not a certificate (a key?); only certificates belong in a CA bundle`,
    );
    expect(error.message).not.toMatch(/-----BEGIN|PRIVATE KEY/);

    await store.send(new PutSecretValueCommand({ SecretId: name, SecretString: server.caPem }));
    expect(await reader.pem()).toBe(server.caPem);
  });

  it('lets throttling through as StoreThrottled, which the workflow retries', async () => {
    const name = await secretWith(server.caPem);
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    }) as unknown as SecretsManagerServiceException;
    probeSecretsManager(store).failNext('GetSecretValue', throttled, 1);
    const reader = new SecretsManagerKeywhizServerCa(store, name);
    await expect(reader.pem()).rejects.toMatchObject({ name: 'StoreThrottled' });
    expect(await reader.pem()).toBe(server.caPem);
  });
});

describe('keywhizSecretSource', () => {
  const givenCa = (pem: string): KeywhizServerCa & { forgotten: number } => ({
    source: 'KEYWHIZ_SERVER_CA_SECRET test-ca',
    forgotten: 0,
    pem: async () => pem,
    forget() {
      this.forgotten++;
    },
  });

  it('builds clients from the KEYWHIZ_* configuration and the CA kept in the agent’s account', async () => {
    const config = localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: server.spiffeId });
    const accounts: string[] = [];
    const source = keywhizSecretSource(config, (accountId) => {
      accounts.push(accountId);
      return givenCa(server.caPem);
    });
    const keywhiz = (await source(alpha, '111122223333')) as KeywhizClient;
    clients.push(keywhiz);
    expect((await keywhiz.list()).length).toBe(3);
    expect(accounts).toEqual(['111122223333']);
  });

  it('forgets a CA that Keywhiz’s certificate does not chain to, so that the next invocation reads it again', async () => {
    const config = localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: server.spiffeId });
    const wrong = givenCa(bundlePem);
    const keywhiz = (await keywhizSecretSource(config, () => wrong)(alpha, '111122223333')) as KeywhizClient;
    clients.push(keywhiz);
    await expect(keywhiz.list()).rejects.toThrow(/check KEYWHIZ_SERVER_CA_SECRET test-ca: /);
    expect(wrong.forgotten).toBe(1);
  });

  it('fails with the CA’s error, before any connection, when the CA cannot be had', async () => {
    const config = localConfig({ KEYWHIZ_URL: server.url });
    const requests = { ...server.requests };
    const missing: KeywhizServerCa = {
      source: 'x',
      pem: async () => {
        throw new InvalidConfiguration('KEYWHIZ_SERVER_CA_SECRET x: no such secret in this account');
      },
      forget: () => undefined,
    };
    await expect(keywhizSecretSource(config, () => missing)(alpha, '111122223333')).rejects.toThrow(
      'KEYWHIZ_SERVER_CA_SECRET x: no such secret in this account',
    );
    expect(server.requests).toEqual(requests);
  });

  it('refuses a configuration without KEYWHIZ_URL or KEYWHIZ_SERVER_CA_SECRET, or with a malformed server SPIFFE ID', () => {
    const { KEYWHIZ_URL: _, ...withoutUrl } = LOCAL_ENV;
    expect(() => loadConfig('sync-agent', settings, withoutUrl)).toThrow(
      new InvalidConfiguration('sync-agent: invalid configuration: KEYWHIZ_URL is not set'),
    );
    const { KEYWHIZ_SERVER_CA_SECRET: __, ...withoutCa } = LOCAL_ENV;
    expect(() => loadConfig('sync-agent', settings, withoutCa)).toThrow(
      new InvalidConfiguration('sync-agent: invalid configuration: KEYWHIZ_SERVER_CA_SECRET is not set'),
    );
    expect(() =>
      keywhizSecretSource(localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: 'keywhiz' }), () =>
        givenCa(server.caPem),
      ),
    ).toThrow(/^KEYWHIZ_SERVER_SPIFFE_ID: /);
    expect(() =>
      keywhizSecretSource(
        localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: 'spiffe://example.org' }),
        () => givenCa(server.caPem),
      ),
    ).toThrow(
      new InvalidConfiguration(
        "KEYWHIZ_SERVER_SPIFFE_ID: spiffe://example.org is a trust domain, not a workload's SPIFFE ID (spiffe://<trust domain>/<path>)",
      ),
    );
    expect(
      () =>
        new KeywhizClient({ baseUrl: 'http://keywhiz', credentials: alpha, timeoutMs: 1, maxAttempts: 1 }),
    ).toThrow(new InvalidConfiguration('KEYWHIZ_URL: Keywhiz is reached over https://'));
  });
});
