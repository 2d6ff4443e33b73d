import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaContext } from '../../../engine/task-binding';
import { createHandler, type WebhookDependencies } from '../../../functions/receive-webhook/receive-webhook';
import { type SecretChange, signWebhook } from '../../../functions/shared/domain/webhook';
import type { DeliveryLog } from '../../../functions/shared/ports/delivery-log/delivery-log';
import type { SecretChanges } from '../../../functions/shared/ports/secret-changes/secret-changes';

const currentKey = new Uint8Array(32).fill(0x11);
const previousKey = new Uint8Array(32).fill(0x22);
const strangerKey = new Uint8Array(32).fill(0x33);
const NOW = new Date('2025-03-01T10:15:00Z');
const nowSeconds = NOW.getTime() / 1000;

/** Delivery ids in memory, with the calls made, and failures on demand. */
class FakeDeliveries implements DeliveryLog {
  readonly claimed = new Set<string>();
  readonly calls: string[] = [];
  failClaims: Error | undefined;

  async claim(deliveryId: string) {
    this.calls.push(`claim ${deliveryId}`);
    if (this.failClaims) throw this.failClaims;
    if (this.claimed.has(deliveryId)) return false;
    this.claimed.add(deliveryId);
    return true;
  }

  async release(deliveryId: string) {
    this.calls.push(`release ${deliveryId}`);
    this.claimed.delete(deliveryId);
  }
}

class FakeSecretChanges implements SecretChanges {
  readonly announced: SecretChange[] = [];
  failures = 0;

  async announce(change: SecretChange) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('PutEvents: InternalFailure');
    }
    this.announced.push(change);
  }
}

let deliveries: FakeDeliveries;
let secretChanges: FakeSecretChanges;
let keysFail: boolean;
let logs: string[];

const dependencies = (overrides: Partial<WebhookDependencies> = {}): WebhookDependencies => ({
  logger: new Logger({ serviceName: 'receive-webhook-test', logLevel: 'INFO' }),
  webhookKeys: {
    keys: async () => {
      if (keysFail) throw new Error('Secrets Manager unavailable');
      return [currentKey, previousKey];
    },
  },
  deliveries,
  secretChanges,
  now: () => NOW,
  ...overrides,
});

beforeEach(() => {
  deliveries = new FakeDeliveries();
  secretChanges = new FakeSecretChanges();
  keysFail = false;
  logs = [];
  // The Powertools logger writes JSON lines to stdout; the test reads what was logged.
  const capture = (chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => {
  jest.restoreAllMocks();
});

const goodChange = {
  deliveryId: 'kw-0001',
  event: 'secret.updated',
  secret: 'db-password',
  services: ['payments'],
};

interface Request {
  method?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  base64?: boolean;
}

const functionUrlEvent = ({
  method = 'POST',
  headers = {},
  body,
  base64 = false,
}: Request): APIGatewayProxyEventV2 => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  ),
  requestContext: {
    accountId: 'anonymous',
    apiId: 'test',
    domainName: 'test.lambda-url.us-east-1.on.aws',
    domainPrefix: 'test',
    http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    requestId: 'req-1',
    routeKey: '$default',
    stage: '$default',
    time: NOW.toISOString(),
    timeEpoch: NOW.getTime(),
  },
  ...(body === undefined ? {} : { body: base64 ? Buffer.from(body).toString('base64') : body }),
  isBase64Encoded: base64,
});

/** A delivery signed as a sender would sign it; each piece can be spoiled. */
const signed = (
  body: string = JSON.stringify(goodChange),
  options: {
    timestamp?: number;
    key?: Uint8Array;
    headers?: Record<string, string | undefined>;
    base64?: boolean;
  } = {},
): Request => {
  const timestamp = options.timestamp ?? nowSeconds;
  return {
    body,
    base64: options.base64 ?? false,
    headers: {
      'content-type': 'application/json',
      'x-trust-bridge-timestamp': String(timestamp),
      'x-trust-bridge-signature': signWebhook(options.key ?? currentKey, timestamp, body),
      ...options.headers,
    },
  };
};

const call = async (request: Request, deps = dependencies()) => {
  const handler = createHandler(deps);
  const result = (await handler(
    functionUrlEvent(request),
    lambdaContext('arn:aws:lambda:us-east-1:000000000000:function:receive-webhook', 30_000),
  )) as APIGatewayProxyStructuredResultV2;
  return { ...result, json: JSON.parse(result.body ?? 'null') as Record<string, unknown> };
};

const expectNothingStarted = () => {
  expect(secretChanges.announced).toEqual([]);
  expect(deliveries.claimed.size).toBe(0);
};

describe('webhook receiver: a good delivery', () => {
  it('is announced once and answered 202 with its delivery id', async () => {
    const response = await call(signed());
    expect(response.statusCode).toBe(202);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(response.json).toEqual({ deliveryId: 'kw-0001', status: 'accepted' });
    expect(secretChanges.announced).toEqual([goodChange]);
  });

  it('accepts a base64-encoded body, a charset parameter and the previous key', async () => {
    const response = await call(
      signed(JSON.stringify(goodChange), {
        base64: true,
        key: previousKey,
        headers: { 'content-type': 'application/json; charset=UTF-8' },
      }),
    );
    expect(response.statusCode).toBe(202);
    expect(secretChanges.announced).toHaveLength(1);
  });

  it('accepts a timestamp exactly 300 s old or ahead', async () => {
    expect(
      (
        await call(
          signed(JSON.stringify({ ...goodChange, deliveryId: 'a' }), { timestamp: nowSeconds - 300 }),
        )
      ).statusCode,
    ).toBe(202);
    expect(
      (
        await call(
          signed(JSON.stringify({ ...goodChange, deliveryId: 'b' }), { timestamp: nowSeconds + 300 }),
        )
      ).statusCode,
    ).toBe(202);
  });

  it('accepts a body of exactly 64 KB', async () => {
    const json = JSON.stringify(goodChange);
    const body = json + ' '.repeat(65_536 - json.length);
    expect((await call(signed(body))).statusCode).toBe(202);
  });

  it('logs the outcome with the delivery id, secret name and status only', async () => {
    await call(signed());
    expect(logs.length).toBeGreaterThan(0);
    const line = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'webhook delivery accepted');
    expect(line).toMatchObject({ deliveryId: 'kw-0001', secret: 'db-password', status: 'accepted' });
    expect(logs.join('')).not.toContain('x-trust-bridge-signature');
    expect(logs.join('')).not.toContain(signWebhook(currentKey, nowSeconds, JSON.stringify(goodChange)));
  });
});

describe('webhook receiver: a replayed delivery', () => {
  it('is answered 202 "duplicate" and announced no second time', async () => {
    const first = await call(signed());
    const again = await call(signed());
    expect(first.json).toEqual({ deliveryId: 'kw-0001', status: 'accepted' });
    expect(again.statusCode).toBe(202);
    expect(again.json).toEqual({ deliveryId: 'kw-0001', status: 'duplicate' });
    expect(secretChanges.announced).toHaveLength(1);
  });
});

describe('webhook receiver: bad input is refused, announces nothing, and is never a 500', () => {
  const tooBig = JSON.stringify({ ...goodChange, secret: 'x' }) + ' '.repeat(65_537);
  const cases: [string, Request, number, string, RegExp][] = [
    ['a GET', { ...signed(), method: 'GET' }, 405, 'method-not-allowed', /POST/],
    ['a body over 64 KB', signed(tooBig), 413, 'body-too-large', /at most 65536/],
    ['a body over 64 KB, unsigned', { body: tooBig }, 413, 'body-too-large', /bytes/],
    [
      'text/plain',
      signed(undefined, { headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported-content-type',
      /text\/plain is not application\/json/,
    ],
    [
      'no content type',
      signed(undefined, { headers: { 'content-type': undefined } }),
      415,
      'unsupported-content-type',
      /missing/,
    ],
    [
      'a charset other than UTF-8',
      signed(undefined, { headers: { 'content-type': 'application/json; charset=latin1' } }),
      415,
      'unsupported-content-type',
      /UTF-8/,
    ],
    [
      'no timestamp header',
      signed(undefined, { headers: { 'x-trust-bridge-timestamp': undefined } }),
      400,
      'missing-timestamp',
      /X-Trust-Bridge-Timestamp/,
    ],
    [
      'a timestamp in milliseconds with a fraction',
      signed(undefined, { headers: { 'x-trust-bridge-timestamp': '1740824100.5' } }),
      400,
      'invalid-timestamp',
      /whole seconds/,
    ],
    [
      'an ISO timestamp',
      signed(undefined, { headers: { 'x-trust-bridge-timestamp': NOW.toISOString() } }),
      400,
      'invalid-timestamp',
      /Unix time/,
    ],
    [
      'a stale timestamp',
      signed(undefined, { timestamp: nowSeconds - 301 }),
      401,
      'stale-timestamp',
      /signed 301 s ago/,
    ],
    [
      'a future timestamp',
      signed(undefined, { timestamp: nowSeconds + 301 }),
      401,
      'future-timestamp',
      /301 s in the future/,
    ],
    [
      'no signature header',
      signed(undefined, { headers: { 'x-trust-bridge-signature': undefined } }),
      401,
      'missing-signature',
      /X-Trust-Bridge-Signature/,
    ],
    ['a signature by another key', signed(undefined, { key: strangerKey }), 401, 'invalid-signature', /HMAC/],
    [
      'a malformed signature',
      signed(undefined, { headers: { 'x-trust-bridge-signature': 'sha256=abc' } }),
      401,
      'invalid-signature',
      /v1=/,
    ],
    [
      'a body changed after signing',
      { ...signed(), body: JSON.stringify({ ...goodChange, secret: 'another-secret' }) },
      401,
      'invalid-signature',
      /HMAC/,
    ],
    [
      'a signature for another timestamp',
      { ...signed(), headers: { ...signed().headers, 'x-trust-bridge-timestamp': String(nowSeconds - 1) } },
      401,
      'invalid-signature',
      /HMAC/,
    ],
    ['malformed JSON', signed('{"deliveryId": "kw-1",'), 400, 'malformed-json', /not valid UTF-8 JSON/],
    [
      'an unknown event',
      signed(JSON.stringify({ ...goodChange, event: 'secret.rotated' })),
      400,
      'invalid-delivery',
      /event must be one of "secret.created", "secret.updated", "secret.deleted"/,
    ],
    ['a JSON array', signed('[]'), 400, 'invalid-delivery', /JSON object/],
    [
      'missing fields and an unknown one',
      signed(JSON.stringify({ event: 'secret.created', value: 'hunter2' })),
      400,
      'invalid-delivery',
      /deliveryId is required; secret is required; unknown field "value"/,
    ],
  ];

  const table = cases.map(([name, request, status, error, message]) => ({
    name,
    request,
    status,
    error,
    message,
  }));
  it.each(table)('$name: $status $error', async ({ request, status, error, message }) => {
    const response = await call(request);
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(response.json).toEqual({ error, message: expect.stringMatching(message) });
    expectNothingStarted();
  });

  it('refuses a signed body that is not UTF-8 as malformed JSON', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]);
    const request: Request = {
      body: bytes.toString('base64'),
      headers: {
        'content-type': 'application/json',
        'x-trust-bridge-timestamp': String(nowSeconds),
        'x-trust-bridge-signature': signWebhook(currentKey, nowSeconds, bytes),
      },
    };
    const event = functionUrlEvent(request);
    event.isBase64Encoded = true;
    const result = (await createHandler(dependencies())(
      event,
      lambdaContext('arn:aws:lambda:us-east-1:000000000000:function:receive-webhook', 30_000),
    )) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '')).toMatchObject({ error: 'malformed-json' });
    expectNothingStarted();
  });

  it('answers 405 with an Allow header', async () => {
    const response = await call({ ...signed(), method: 'PUT' });
    expect(response.headers?.allow).toBe('POST');
  });
});

describe('webhook receiver: failing dependencies', () => {
  it('answers 503 and releases the claim when the change cannot be announced, so the retry goes through', async () => {
    secretChanges.failures = 1;
    const failed = await call(signed());
    expect(failed.statusCode).toBe(503);
    expect(failed.json).toEqual({
      error: 'unavailable',
      message: expect.stringMatching(/retry the delivery/),
    });
    expect(deliveries.calls).toEqual(['claim kw-0001', 'release kw-0001']);
    expect(deliveries.claimed.size).toBe(0);

    const retried = await call(signed());
    expect(retried.statusCode).toBe(202);
    expect(retried.json).toEqual({ deliveryId: 'kw-0001', status: 'accepted' });
    expect(secretChanges.announced).toEqual([goodChange]);
  });

  it('answers 503 when the signing keys cannot be read, before anything is claimed', async () => {
    keysFail = true;
    const response = await call(signed());
    expect(response.statusCode).toBe(503);
    expect(response.json).toMatchObject({ error: 'unavailable' });
    expectNothingStarted();
  });

  it('answers 503 when the delivery log fails, and announces nothing', async () => {
    deliveries.failClaims = new Error('DynamoDB throttled');
    const response = await call(signed());
    expect(response.statusCode).toBe(503);
    expect(secretChanges.announced).toEqual([]);
  });

  it('answers an unexpected failure with a bare 500, never its message or stack trace', async () => {
    const response = await call(
      signed(),
      dependencies({
        now: () => {
          throw new Error('clock broke at /var/task/secret-path.js:12');
        },
      }),
    );
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({ error: 'internal', message: 'the receiver failed; retry the delivery' });
    expect(response.body).not.toContain('secret-path');
    expectNothingStarted();
  });
});
