import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpsEnrollmentRegistry } from '../../functions/shared/aws/https-enrollment-registry';
import {
  EnrollmentsUnavailable,
  InvalidConfiguration,
  InvalidEnrollment,
} from '../../functions/shared/domain/errors';
import { FileEnrollmentRegistry } from '../../local-stack/stand-ins/file-enrollment-registry';

const payments = { service: 'payments', environment: 'prod', accountId: '111122223333', identity: true };
/** What an InvalidEnrollment with exactly this message looks like. */
const invalid = (message: string) => ({ name: InvalidEnrollment.name, message });
/** The endpoint, not the registry, failed: a retryable error. */
const unavailable = (message: string) => ({ name: EnrollmentsUnavailable.name, message });
const expected = [{ ...payments, secrets: false, readerRoles: [] }];

describe('FileEnrollmentRegistry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enrollments-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return new FileEnrollmentRegistry(path);
  };

  it('reads the sample enrollments shipped for npm start', async () => {
    const enrollments = await new FileEnrollmentRegistry('samples/enrollments.yaml').list();

    expect(enrollments.length).toBeGreaterThanOrEqual(5);
    expect(new Set(enrollments.map((e) => e.accountId)).size).toBe(enrollments.length);
    expect(enrollments.some((e) => !e.identity)).toBe(true);
    expect(enrollments.some((e) => e.readerRoles.length === 2)).toBe(true);
  });

  it('reads YAML', async () => {
    const registry = await file(
      'enrollments.yml',
      'enrollments:\n  - service: payments\n    environment: prod\n    accountId: "111122223333"\n    identity: true\n',
    );
    expect(await registry.list()).toEqual(expected);
  });

  it('reads JSON', async () => {
    const registry = await file('enrollments.json', JSON.stringify({ enrollments: [payments] }));
    expect(await registry.list()).toEqual(expected);
  });

  it('names the file in a validation error', async () => {
    const registry = await file(
      'broken.yaml',
      'enrollments:\n  - service: payments\n    environment: prod\n',
    );
    await expect(registry.list()).rejects.toMatchObject(
      invalid(`${join(dir, 'broken.yaml')}: record 1 (payments/prod): accountId is required`),
    );
  });

  it('says so when the file is missing', async () => {
    const path = join(dir, 'absent.yaml');
    await expect(new FileEnrollmentRegistry(path).list()).rejects.toMatchObject(
      invalid(`${path}: no such enrollment file`),
    );
  });

  it('gives the line of a YAML syntax error', async () => {
    const registry = await file('syntax.yaml', 'enrollments:\n  - service: payments\n   environment: prod\n');
    await expect(registry.list()).rejects.toMatchObject(
      invalid(
        `${join(dir, 'syntax.yaml')}: syntax error at line 3, column 1: Sequence item without - indicator`,
      ),
    );
  });

  it('gives the line of a JSON syntax error, and takes no YAML-only scalars in .json', async () => {
    const broken = await file('syntax.json', '{\n  "enrollments": [\n    {"service": yes}\n  ]\n}\n');
    await expect(broken.list()).rejects.toThrow(/syntax\.json: syntax error at line 3, column 17: /);
  });

  it('refuses a file that is neither YAML nor JSON', async () => {
    const registry = await file('enrollments.txt', 'enrollments: []\n');
    await expect(registry.list()).rejects.toThrow(/ends in \.yaml, \.yml or \.json/);
  });
});

describe('HttpsEnrollmentRegistry', () => {
  const url = 'https://registry.example.org/v1/enrollments?token=s3cr3t';
  const shown = 'https://registry.example.org/v1/enrollments';
  const answering = (body: string, reply: ResponseInit = {}) => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const fetch = async (input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), init });
      return new Response(body, reply);
    };
    return { fetch: fetch as typeof globalThis.fetch, calls };
  };

  it('fetches the enrollments as JSON over https, with no redirects allowed', async () => {
    const { fetch, calls } = answering(JSON.stringify({ enrollments: [payments] }));

    expect(await new HttpsEnrollmentRegistry(url, { fetch }).list()).toEqual(expected);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(url);
    expect(calls[0]?.init).toMatchObject({ redirect: 'error', signal: expect.any(AbortSignal) });
  });

  it('validates the body like a file, naming the URL without its query string', async () => {
    const { fetch } = answering(JSON.stringify({ enrollments: [{ ...payments, accountId: '1' }] }));
    const error = await new HttpsEnrollmentRegistry(url, { fetch }).list().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidEnrollment);
    expect((error as Error).message).toBe(
      `${shown}: record 1 (payments/prod): accountId must be a 12-digit AWS account id`,
    );
  });

  it.each([
    ['a body that is not JSON', answering('<html>oops</html>'), `${shown}: the response is not JSON`],
    [
      'a JSON body of another shape',
      answering('[1,2]'),
      `${shown}: must be a mapping with an "enrollments:" list`,
    ],
    ['HTTP 404', answering('{"enrollments":[]}', { status: 404 }), `${shown}: answered HTTP 404`],
  ])('rejects %s with a clear InvalidEnrollment', async (_, { fetch }, message) => {
    await expect(new HttpsEnrollmentRegistry(url, { fetch }).list()).rejects.toMatchObject(invalid(message));
  });

  it('reports HTTP 503 as a retryable EnrollmentsUnavailable', async () => {
    const { fetch } = answering('down', { status: 503, statusText: 'Service Unavailable' });
    await expect(new HttpsEnrollmentRegistry(url, { fetch }).list()).rejects.toMatchObject(
      unavailable(`${shown}: answered HTTP 503 Service Unavailable`),
    );
  });

  it('gives up after the timeout', async () => {
    const hanging = ((_: unknown, init?: RequestInit) =>
      new Promise((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;

    await expect(
      new HttpsEnrollmentRegistry(url, { fetch: hanging, timeoutMs: 20 }).list(),
    ).rejects.toMatchObject(unavailable(`${shown}: no complete answer within 20 ms`));
  });

  it('reports a network failure without the query string', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof globalThis.fetch;

    const error = await new HttpsEnrollmentRegistry(url, { fetch: failing }).list().catch((e: unknown) => e);

    expect(error).toMatchObject(unavailable(`${shown}: request failed (fetch failed: ECONNREFUSED)`));
  });

  it.each(['http://registry.example.org/enrollments', 'ftp://registry.example.org/e', 'not a url'])(
    'refuses %s',
    (address) => {
      expect(() => new HttpsEnrollmentRegistry(address)).toThrow(InvalidConfiguration);
    },
  );

  it.each(['http://127.0.0.1:8080/enrollments', 'http://localhost/enrollments'])(
    'accepts plain http on loopback for tests: %s',
    async (address) => {
      const { fetch } = answering(JSON.stringify({ enrollments: [] }));
      expect(await new HttpsEnrollmentRegistry(address, { fetch }).list()).toEqual([]);
    },
  );
});
