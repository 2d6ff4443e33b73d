import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  InvalidSvidClientOption,
  SvidClient,
  type SvidClientOptions,
  SvidExpired,
  SvidSecretInvalid,
  SvidUnavailable,
  X509Svid,
} from '../../client';
import type { SpireSvidSecret } from '../../client/spiffe/spire-secret';
import { secretBinary, secretText, TestTrustDomains } from '../support/test-svids';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:trust-bridge/svid/prod/payments-AbCdEf';
const PAYMENTS = 'spiffe://example.org/prod/payments';
const HOUR = 3_600_000;

let domains: TestTrustDomains;
/** Issued a minute ago, valid 24 h. */
let first: SpireSvidSecret;
/** The renewal: issued 12 h after `first`. */
let renewed: SpireSvidSecret;
let start: number;

beforeAll(async () => {
  domains = await TestTrustDomains.create({ ours: 'example.org' });
  start = Date.now();
  first = await domains.secret('ours', PAYMENTS, { notBefore: new Date(start - 60_000) });
  renewed = await domains.secret('ours', PAYMENTS, { notBefore: new Date(start + 12 * HOUR) });
});

afterAll(() => domains.close());

/** A source serving `current.secret`, counting reads, and a clock the test moves. */
function harness(options: Partial<SvidClientOptions> = {}) {
  const state = { secret: first as SpireSvidSecret | Error, reads: 0, now: start };
  const client = new SvidClient({
    secretArn: ARN,
    now: () => state.now,
    source: async () => {
      state.reads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (state.secret instanceof Error) throw state.secret;
      return secretBinary(state.secret);
    },
    ...options,
  });
  return { client, state };
}

/** Which SVID: compared by the leaf certificate's PEM. */
const serial = (svid: X509Svid) => svid.certificateChainPem.trim();
const pemOf = (secret: SpireSvidSecret) => secret.x509SVID.trim();

describe('the cache', () => {
  it('reads once for many concurrent and later callers', async () => {
    const { client, state } = harness();
    const svids = await Promise.all(Array.from({ length: 50 }, () => client.svid()));
    state.now += 11 * HOUR;
    svids.push(await client.svid());
    expect(state.reads).toBe(1);
    expect(new Set(svids).size).toBe(1);
    expect(svids[0]?.spiffeId).toBe(PAYMENTS);
  });

  it('reads again once less than half the lifetime is left, and serves the renewed SVID', async () => {
    const { client, state } = harness();
    await client.svid();
    state.secret = renewed;
    state.now = start + 12 * HOUR + 60_000;
    const svid = await client.svid();
    expect(state.reads).toBe(2);
    expect(serial(svid)).toBe(pemOf(renewed));
    state.now += 11 * HOUR;
    await client.svid();
    expect(state.reads).toBe(2);
  });

  it('honours a configured margin', async () => {
    const { client, state } = harness({ refreshBeforeMs: HOUR });
    await client.svid();
    state.now = start + 22 * HOUR;
    await client.svid();
    expect(state.reads).toBe(1);
    state.now = start + 23 * HOUR;
    await client.svid();
    expect(state.reads).toBe(2);
  });

  it('keeps the SVID it has when the read brings back the same one, and asks again only after retryAfterMs', async () => {
    const { client, state } = harness({ retryAfterMs: 60_000 });
    const held = await client.svid();
    state.now = start + 13 * HOUR;
    expect(await client.svid()).toBe(held);
    expect(state.reads).toBe(2);
    state.now += 59_000;
    await client.svid();
    expect(state.reads).toBe(2);
    state.now += 2_000;
    state.secret = renewed;
    expect(serial(await client.svid())).toBe(pemOf(renewed));
    expect(state.reads).toBe(3);
  });

  it('never trades a newer SVID for an older one a cache in front still holds', async () => {
    const { client, state } = harness();
    state.secret = renewed;
    state.now = start + 12 * HOUR + 60_000;
    await client.svid();
    state.secret = first;
    state.now = start + 25 * HOUR;
    expect(serial(await client.svid())).toBe(pemOf(renewed));
  });

  it('serves the cached SVID through a failed refresh while it is valid, and reports the failure', async () => {
    const failures: Error[] = [];
    const { client, state } = harness({ onRefreshError: (error) => failures.push(error) });
    const held = await client.svid();
    state.secret = new SvidUnavailable('GetSecretValue failed: ThrottlingException');
    state.now = start + 13 * HOUR;
    expect(await client.svid()).toBe(held);
    expect(failures.map((error) => error.message)).toEqual(['GetSecretValue failed: ThrottlingException']);
  });

  it('never serves an expired SVID: it throws SvidExpired when no newer one can be had', async () => {
    const { client, state } = harness();
    await client.svid();
    state.now = start + 24 * HOUR;
    await expect(client.svid()).rejects.toThrow(SvidExpired);
    await expect(client.svid()).rejects.toThrow(
      /^the SVID in arn:aws:secretsmanager:.* \(spiffe:\/\/example\.org\/prod\/payments\) is valid from .* not now .*: it has not been renewed$/,
    );
    state.secret = new SvidUnavailable('extension down');
    await expect(client.svid()).rejects.toThrow('extension down');
  });

  it('refuses an SVID that is not valid yet', async () => {
    const { client } = harness();
    const early = harness({ source: async () => secretBinary(renewed) });
    await expect(early.client.svid()).rejects.toThrow(SvidExpired);
    await expect(client.svid()).resolves.toBeInstanceOf(X509Svid);
  });

  it('keeps one agent per allow-list until the SVID is renewed', async () => {
    const { client, state } = harness();
    const agent = await client.httpsAgent(['spiffe://example.org/prod/mesh']);
    expect(await client.httpsAgent(['spiffe://example.org/prod/mesh'])).toBe(agent);
    expect(await client.httpsAgent(['spiffe://example.org/prod/other'])).not.toBe(agent);
    state.secret = renewed;
    state.now = start + 13 * HOUR;
    const next = await client.httpsAgent(['spiffe://example.org/prod/mesh']);
    expect(next).not.toBe(agent);
    expect(String(next.options.cert).trim()).toBe(pemOf(renewed));
    client.close();
  });
});

describe('reading through the Parameters and Secrets Lambda Extension', () => {
  const TOKEN = 'session-token-for-the-test';
  let extension: Server;
  let port: number;
  let requests: { url: string; token: string | string[] | undefined }[];
  let answer: (request: IncomingMessage) => { status: number; body: string };

  beforeAll(async () => {
    extension = createServer((request, response) => {
      requests.push({ url: request.url ?? '', token: request.headers['x-aws-parameters-secrets-token'] });
      // The real extension refuses a request without the function's session token.
      if (request.headers['x-aws-parameters-secrets-token'] !== TOKEN) {
        response.writeHead(401).end('401 Unauthorized');
        return;
      }
      const { status, body } = answer(request);
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => extension.listen(0, '127.0.0.1', resolve));
    port = (extension.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => extension.close(() => resolve())));

  beforeEach(() => {
    requests = [];
    answer = () => ({
      status: 200,
      body: extensionBody({ SecretBinary: base64(first), SecretString: null }),
    });
  });

  const base64 = (secret: SpireSvidSecret) => Buffer.from(secretBinary(secret)).toString('base64');
  /** GetSecretValue's output as the extension serialises it (from its documented answers). */
  const extensionBody = (value: { SecretBinary: string | null; SecretString: string | null }) =>
    JSON.stringify({
      ARN,
      CreatedDate: '2025-01-01T00:00:00.000Z',
      Name: 'trust-bridge/svid/prod/payments',
      ...value,
      VersionId: 'b1c367b9-7f53-4a47-82c4-be51a054b953',
      VersionStages: ['AWSCURRENT'],
      ResultMetadata: {},
    });
  const viaExtension = (token = TOKEN) =>
    new SvidClient({ secretArn: ARN, via: 'extension', extension: { host: '127.0.0.1', port, token } });

  it('asks for the secret by ARN with the session token, and reads SecretBinary', async () => {
    const svid = await viaExtension().svid();
    expect(svid.spiffeId).toBe(PAYMENTS);
    expect(requests).toEqual([
      { url: `/secretsmanager/get?secretId=${encodeURIComponent(ARN)}`, token: TOKEN },
    ]);
  });

  it('reads a SecretString value too', async () => {
    answer = () => ({
      status: 200,
      body: extensionBody({ SecretBinary: null, SecretString: secretText(first) }),
    });
    expect((await viaExtension().svid()).spiffeId).toBe(PAYMENTS);
  });

  it('takes the port from PARAMETERS_SECRETS_EXTENSION_HTTP_PORT and the token from AWS_SESSION_TOKEN', async () => {
    const saved = { ...process.env };
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(port);
    process.env.AWS_SESSION_TOKEN = TOKEN;
    try {
      const client = new SvidClient({ secretArn: ARN, via: 'extension', extension: { host: '127.0.0.1' } });
      expect((await client.svid()).spiffeId).toBe(PAYMENTS);
    } finally {
      process.env = saved;
    }
  });

  it("reports a refusal with its HTTP status and the extension's words", async () => {
    await expect(viaExtension('wrong-token').svid()).rejects.toThrow(
      new SvidUnavailable(
        `the Parameters and Secrets extension answered HTTP 401 for ${ARN}: 401 Unauthorized`,
      ),
    );
    answer = () => ({
      status: 400,
      body: '400 Bad Request: an unexpected error occurred while executing request',
    });
    await expect(viaExtension().svid()).rejects.toThrow(/HTTP 400 .*an unexpected error occurred/);
  });

  it('refuses to ask without a session token', async () => {
    const saved = process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_SESSION_TOKEN;
    try {
      const client = new SvidClient({
        secretArn: ARN,
        via: 'extension',
        extension: { host: '127.0.0.1', port },
      });
      await expect(client.svid()).rejects.toThrow(/AWS_SESSION_TOKEN is not set/);
      expect(requests).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.AWS_SESSION_TOKEN = saved;
    }
  });

  it('auto: uses the extension when it listens, without calling Secrets Manager', async () => {
    const sdk = { send: async () => Promise.reject(new Error('Secrets Manager must not be called')) };
    const client = new SvidClient({
      secretArn: ARN,
      extension: { host: '127.0.0.1', port, token: TOKEN },
      secretsManager: sdk,
    });
    expect((await client.svid()).spiffeId).toBe(PAYMENTS);
    expect(requests).toHaveLength(1);
  });
});

describe('reading with GetSecretValue', () => {
  const sm = mockClient(SecretsManagerClient as never) as unknown as {
    reset(): void;
    on(command: unknown): { resolves(output: object): void; rejects(error: Error): void };
    commandCalls(command: unknown): { args: [{ input: object }] }[];
  };
  beforeEach(() => sm.reset());

  const viaSdk = () =>
    new SvidClient({ secretArn: ARN, via: 'secrets-manager', secretsManager: new SecretsManagerClient({}) });

  it('asks by ARN and reads SecretBinary', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: secretBinary(first) });
    expect((await viaSdk().svid()).spiffeId).toBe(PAYMENTS);
    expect(sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: ARN },
    ]);
  });

  it('reads a SecretString value too', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: secretText(first) });
    expect((await viaSdk().svid()).spiffeId).toBe(PAYMENTS);
  });

  it('names the AWS error when the secret cannot be read', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    );
    await expect(viaSdk().svid()).rejects.toThrow(
      `GetSecretValue ${ARN} failed: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
    );
  });

  it('auto: falls back to GetSecretValue when nothing listens on the extension port', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: secretBinary(first) });
    const client = new SvidClient({
      secretArn: ARN,
      extension: { port, token: 'token' },
      secretsManager: new SecretsManagerClient({}),
      refreshBeforeMs: 24 * HOUR,
      retryAfterMs: 0,
    });
    expect((await client.svid()).spiffeId).toBe(PAYMENTS);
    await client.svid();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

describe('a malformed secret', () => {
  const keyBody = () => first.x509SVIDKey.split('\n')[1] as string;
  const failure = async (value: string | Uint8Array): Promise<Error> => {
    const client = new SvidClient({ secretArn: ARN, source: async () => value });
    const error = await client.svid().then(
      () => new Error('read a malformed secret'),
      (caught: Error) => caught,
    );
    expect(error).toBeInstanceOf(SvidSecretInvalid);
    expect(`${error.message} ${inspect(error)}`).not.toContain(keyBody());
    expect(error.message).not.toContain('PRIVATE KEY');
    return error;
  };

  it('is refused with a clear error that quotes no part of it', async () => {
    expect((await failure(`{"x509SVIDKey": ${JSON.stringify(first.x509SVIDKey)} oops`)).message).toBe(
      'the SVID secret is not UTF-8 JSON',
    );
    expect((await failure(JSON.stringify({ ...first, x509SVID: 42 }))).message).toBe(
      "the SVID secret's x509SVID is not a string",
    );
    // SPIRE leaves an empty field out: an omitted key reads as none, like one that is not a key.
    for (const x509SVIDKey of [undefined, 'not a key']) {
      expect((await failure(JSON.stringify({ ...first, x509SVIDKey }))).message).toBe(
        "the SVID secret's x509SVIDKey: the private key is not a PKCS#8 PEM ECDSA key like the certificate's",
      );
    }
    expect((await failure(JSON.stringify({ ...first, bundle: 'no PEM here' }))).message).toBe(
      "the SVID secret's bundle holds no PEM certificate",
    );
    expect(await failure(new Uint8Array([0xff, 0xfe]))).toBeInstanceOf(SvidSecretInvalid);
  });

  it("is refused when the key is not the certificate's, or the ID not the certificate's", async () => {
    expect((await failure(JSON.stringify({ ...first, x509SVIDKey: renewed.x509SVIDKey }))).message).toBe(
      "the SVID secret's x509SVIDKey: the private key does not match the certificate's public key",
    );
    expect(
      (await failure(JSON.stringify({ ...first, spiffeID: 'spiffe://example.org/prod/orders' }))).message,
    ).toBe(`the SVID secret's leaf certificate is ${PAYMENTS}, not spiffe://example.org/prod/orders`);
  });

  it('a good SVID never shows its key when printed or serialised', () => {
    const svid = X509Svid.fromSecret(secretBinary(first));
    for (const shown of [inspect(svid, { depth: 5 }), JSON.stringify(svid), String(Object.values(svid))]) {
      expect(shown).not.toContain(keyBody());
    }
    expect(svid.tlsCredentials().key).toBe(first.x509SVIDKey);
  });
});

describe('options', () => {
  it('refuses a secret name where the ARN is needed, and an empty allow-list', async () => {
    expect(() => new SvidClient({ secretArn: 'trust-bridge/svid/prod/payments' })).toThrow(
      InvalidSvidClientOption,
    );
    const { client } = harness();
    await expect(client.httpsAgent([])).rejects.toThrow(
      'the SPIFFE ID allow-list is empty: it would refuse every peer',
    );
    await expect(client.httpsAgent(['spiffe://partner.org/*'])).rejects.toThrow(
      "the allow-list names trust domain partner.org, but the SVID secret's federatedBundles has no spiffe://partner.org (it has bundles for example.org)",
    );
  });
});
