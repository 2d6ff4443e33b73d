import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../functions/shared/config';
import { settings } from '../../functions/sync-agent/sync-agent';
import { LOCAL_ENV, localConfig } from '../../local-stack/local-config';
import {
  InvalidConfiguration,
  InvalidKeywhizResponse,
  KeywhizUnavailable,
  SecretAccessDenied,
} from '../../functions/shared/domain/errors';
import {
  parseBatchDelivery,
  parseSecretDelivery,
  parseSecretListing,
} from '../../functions/shared/domain/keywhiz-responses';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { KeywhizClient, keywhizSecretSource } from '../../functions/shared/keywhiz/keywhiz-client';
import { KeywhizDevServer } from '../../local-stack/stand-ins/keywhiz-dev-server';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca';
import type { KeywhizCredentials } from '../../functions/shared/ports/secret-source';

const FIXTURES = new URL('../fixtures/keywhiz/', import.meta.url);
/** The team's originals, beside the repository on its machines and in CI. */
const ORIGINALS = new URL('../../../shared/fixtures/keywhiz/', import.meta.url);
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
  return { certificateChainPem: cert, privateKeyPem: key, bundlePem };
}

function client(
  who: KeywhizCredentials,
  options: Partial<ConstructorParameters<typeof KeywhizClient>[0]> = {},
): KeywhizClient {
  const made = new KeywhizClient({
    baseUrl: server.url,
    credentials: who,
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
      checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updateDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      secretLength: 14,
      metadata: { mode: '0400', owner: 'alpha' },
    });
    expect(JSON.stringify(listing)).not.toContain('alpha-db-value');
    expect(keywhiz.calls).toEqual({ list: 1, batch: 0, single: 0 });
  });

  it('fetches content in one batch, binary content byte for byte', async () => {
    const keywhiz = client(alpha);
    const found = await keywhiz.fetch([
      'db-password',
      'signing-key.der',
      'General_Password..0be68f903f8b7d86',
    ]);

    expect([...found.keys()].sort()).toEqual([
      'General_Password..0be68f903f8b7d86',
      'db-password',
      'signing-key.der',
    ]);
    expect(found.get('db-password')?.content).toEqual(utf8('alpha-db-value'));
    expect(found.get('signing-key.der')?.content).toEqual(new Uint8Array([0x30, 0xff, 0xfe, 0x00, 0x80]));
    expect(found.get('db-password')?.metadata).toEqual({ mode: '0400', owner: 'alpha' });
    expect(keywhiz.calls).toEqual({ list: 0, batch: 1, single: 0 });
    expect(await keywhiz.fetch([])).toEqual(new Map());
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

    expect(second).toMatch(/^[0-9a-f]{64}$/);
    expect(second).not.toBe(first);
    const fetched = (await keywhiz.fetch(['rotating'])).get('rotating');
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

    expect([...found.keys()]).toEqual(['db-password']);
    expect(keywhiz.calls).toEqual({ list: 1, batch: 1, single: 2 });
  });

  it('cannot obtain another service’s secret: SecretAccessDenied names it', async () => {
    const before = server.requests.denied;
    const keywhiz = client(alpha);

    await expect(keywhiz.fetch(['db-password', 'beta-token'])).rejects.toThrow(
      new SecretAccessDenied(
        'Keywhiz denied secret "beta-token" to this service (GET /secret/beta-token: HTTP 403)',
      ),
    );
    expect(server.requests.denied - before).toBe(2); // the batch, then the single request that names it
    expect((await client(beta).fetch(['beta-token'])).get('beta-token')?.content).toEqual(utf8('beta-value'));
  });

  it('is refused everything when its SPIFFE ID is no Keywhiz client', async () => {
    const keywhiz = client(stranger);

    await expect(keywhiz.list()).rejects.toThrow(
      new SecretAccessDenied('Keywhiz denied the listing to this service (GET /secrets: HTTP 403)'),
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('refuses a server whose SPIFFE ID is not the expected one, without retrying', async () => {
    const keywhiz = client(alpha, { serverSpiffeId: `spiffe://${TRUST_DOMAIN}/impostor` });

    const error = await keywhiz.list().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as Error).message).toBe(
      `Keywhiz at ${server.url} is not trusted: the server is ${server.spiffeId}, expected spiffe://${TRUST_DOMAIN}/impostor (check KEYWHIZ_SERVER_SPIFFE_ID and the trust bundle)`,
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('verifies the host name when no server SPIFFE ID is configured (an SVID names none)', async () => {
    const keywhiz = client(alpha, { serverSpiffeId: undefined });
    await expect(keywhiz.list()).rejects.toBeInstanceOf(InvalidConfiguration);
    expect(keywhiz.calls.list).toBe(1);
  });

  it('refuses a server certificate from another CA', async () => {
    const foreign = await SoftwareCertificateAuthority.open(join(tmp, 'foreign-ca'), TRUST_DOMAIN);
    const keywhiz = client({ ...alpha, bundlePem: (await foreign.bundle()).join('\n') });
    await expect(keywhiz.list()).rejects.toThrow(
      / is not trusted: self-signed certificate in certificate chain /,
    );
    expect(keywhiz.calls.list).toBe(1);
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
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId });

    const error = await keywhiz.list().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(KeywhizUnavailable);
    expect((error as Error).message).toMatch(/after 3 attempts \(last: ECONNREFUSED: /);
    expect(keywhiz.calls.list).toBe(3);
  });

  it.each([400, 404, 429])('does not retry HTTP %i', async (status) => {
    const fault = await faultyKeywhiz((_req, res) => json(res, status, { code: status, message: 'no' }));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId });

    await expect(keywhiz.list()).rejects.toThrow(
      new InvalidKeywhizResponse(`GET /secrets: Keywhiz answered HTTP ${status} "no"`),
    );
    expect(keywhiz.calls.list).toBe(1);
  });

  it('rejects a body that is not JSON or not the documented shape', async () => {
    let body = 'not json';
    const fault = await faultyKeywhiz((_req, res) => res.end(body));
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId });

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
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId });

    const found = await keywhiz.fetch(['a', 'b/c', '..', 'gone']);
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
    const keywhiz = client(alpha, { baseUrl: fault.url, serverSpiffeId: faultId });
    const names = Array.from({ length: 150 }, (_, i) => `s${i}`);

    expect((await keywhiz.fetch([...names, 's0'])).size).toBe(150);
    expect(sizes).toEqual([100, 50]);
    drop = true;
    await expect(keywhiz.fetch(['x', 'y'])).rejects.toThrow(
      new InvalidKeywhizResponse(
        'POST /batchsecret: the answer does not match the request (1 missing, 0 not requested, e.g. "x" missing)',
      ),
    );
  });
});

describe('keywhizSecretSource', () => {
  it('builds clients from the KEYWHIZ_* configuration', async () => {
    const config = localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: server.spiffeId });
    const keywhiz = keywhizSecretSource(config)(alpha) as KeywhizClient;
    clients.push(keywhiz);
    expect((await keywhiz.list()).length).toBe(3);
  });

  it('refuses a configuration without KEYWHIZ_URL or with a malformed server SPIFFE ID', () => {
    const { KEYWHIZ_URL: _, ...withoutUrl } = LOCAL_ENV;
    expect(() => loadConfig('sync-agent', settings, withoutUrl)).toThrow(
      new InvalidConfiguration('sync-agent: invalid configuration: KEYWHIZ_URL is not set'),
    );
    expect(() =>
      keywhizSecretSource(localConfig({ KEYWHIZ_URL: server.url, KEYWHIZ_SERVER_SPIFFE_ID: 'keywhiz' })),
    ).toThrow(/^KEYWHIZ_SERVER_SPIFFE_ID: /);
    expect(
      () =>
        new KeywhizClient({ baseUrl: 'http://keywhiz', credentials: alpha, timeoutMs: 1, maxAttempts: 1 }),
    ).toThrow(new InvalidConfiguration('KEYWHIZ_URL: Keywhiz is reached over https://'));
  });
});
