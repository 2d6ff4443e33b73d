import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpsEnrollmentRegistry } from '../../../../../functions/shared/ports/enrollment-registry/https-enrollment-registry';
import { ENROLLMENTS_MAX_BYTES } from '../../../../../functions/shared/domain/enrollment';
import {
  EnrollmentsUnavailable,
  InvalidConfiguration,
  InvalidEnrollment,
} from '../../../../../functions/shared/domain/errors';
import { FileEnrollmentRegistry } from '../../../../../local-stack/stand-ins/file-enrollment-registry';

const payments = { service: 'payments', environment: 'prod', accountId: '111122223333', identity: true };
/** What an InvalidEnrollment with exactly this message looks like. */
const invalid = (message: string) => ({ name: InvalidEnrollment.name, message });
/** The endpoint, not the registry, failed: a retryable error. */
const unavailable = (message: string) => ({ name: EnrollmentsUnavailable.name, message });
const expected = [{ ...payments, secrets: false, readerRoles: [] }];
const MiB = 1024 * 1024;

/** n records as a large registry holds them: every field set, two reader roles each. */
const realistic = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const service = `service-${String(i).padStart(6, '0')}`;
    return {
      service,
      environment: ['prod', 'staging', 'dev'][i % 3],
      accountId: String(100_000_000_000 + i),
      identity: true,
      secrets: true,
      readerRoles: [`${service}-api-lambda`, `${service}-worker-lambda`],
    };
  });
/** The same records written out as YAML by hand, as an operator would. */
const asYaml = (records: ReturnType<typeof realistic>) =>
  `enrollments:\n${records
    .map(
      (r) =>
        `  - service: ${r.service}\n    environment: ${r.environment}\n    accountId: '${r.accountId}'\n` +
        `    identity: true\n    secrets: true\n    readerRoles:\n` +
        r.readerRoles.map((role) => `      - ${role}\n`).join(''),
    )
    .join('\n')}`;

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

  it('refuses a file over the size limit unread, naming the file', async () => {
    const path = join(dir, 'huge.yaml');
    await writeFile(path, 'enrollments:\n');
    await truncate(path, 40 * MiB);
    await expect(new FileEnrollmentRegistry(path).list()).rejects.toMatchObject(
      invalid(
        `${path}: 40 MiB, over the 32 MiB an enrollment registry may hold; refused before parsing. ` +
          '100,000 records take about 21 MB of YAML: look for padding or repeated records',
      ),
    );
  });

  it('admits 100,000 realistic records: 26.7 MB as indented JSON, 20.7 MB as YAML', async () => {
    const records = realistic(100_000);
    const json = JSON.stringify({ enrollments: records }, null, 2);
    expect(Buffer.byteLength(json)).toBeLessThan(ENROLLMENTS_MAX_BYTES * 0.85);
    expect(Buffer.byteLength(asYaml(records))).toBeLessThan(ENROLLMENTS_MAX_BYTES * 0.65);

    const enrollments = await (await file('fleet.json', json)).list();
    expect(enrollments).toHaveLength(100_000);
    expect(enrollments[99_999]).toEqual(records[99_999]);
  }, 60_000);

  it('reads YAML written as the realistic records are', async () => {
    const records = realistic(3);
    expect(await (await file('three.yaml', asYaml(records))).list()).toEqual(records);
  });

  it('refuses a YAML alias bomb with a clear error naming the file', async () => {
    const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const bomb = [
      'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
      ...levels.slice(1).map((l, i) => `${l}: &${l} [${Array(9).fill(`*${levels[i]}`).join(', ')}]`),
      'enrollments: []',
    ].join('\n');
    const registry = await file('bomb.yaml', bomb);
    await expect(registry.list()).rejects.toMatchObject(
      invalid(
        `${join(dir, 'bomb.yaml')}: its YAML aliases expand too far (an alias bomb?): an alias may stand for ` +
          'at most 100 nodes in all. Write the values out instead of using aliases',
      ),
    );
  });

  it('takes a few aliases, and names the file of an alias without its anchor', async () => {
    const roles = await file(
      'aliases.yaml',
      'enrollments:\n' +
        '  - { service: a, environment: prod, accountId: "111122223333", readerRoles: &roles [r1, r2] }\n' +
        '  - { service: b, environment: prod, accountId: "111122223333", readerRoles: *roles }\n',
    );
    expect((await roles.list()).map((e) => e.readerRoles)).toEqual([
      ['r1', 'r2'],
      ['r1', 'r2'],
    ]);

    const dangling = await file('dangling.yaml', 'enrollments: *records\n');
    await expect(dangling.list()).rejects.toMatchObject(
      invalid(
        `${join(dir, 'dangling.yaml')}: Unresolved alias (the anchor must be set before the alias): records`,
      ),
    );
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

  it('refuses a response declaring more than the size limit without reading its body', async () => {
    let pulled = 0;
    const body = new ReadableStream({
      pull: (controller) => {
        pulled += 1;
        controller.enqueue(new Uint8Array(MiB));
        if (pulled === 40) controller.close();
      },
    });
    const fetch = (async () =>
      new Response(body, { headers: { 'content-length': String(40 * MiB) } })) as typeof globalThis.fetch;
    await expect(new HttpsEnrollmentRegistry(url, { fetch }).list()).rejects.toMatchObject(
      invalid(
        `${shown}: 40 MiB, over the 32 MiB an enrollment registry may hold; refused before parsing. ` +
          '100,000 records take about 21 MB of YAML: look for padding or repeated records',
      ),
    );
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('stops reading a response without a length once it passes the size limit', async () => {
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream({
      // 40 MiB of blanks in all, unless the reader stops first.
      pull: (controller) => {
        pulled += 1;
        controller.enqueue(new Uint8Array(MiB).fill(0x20));
        if (pulled === 40) controller.close();
      },
      cancel: () => {
        cancelled = true;
      },
    });
    const fetch = (async () => new Response(body)) as typeof globalThis.fetch;
    const error = await new HttpsEnrollmentRegistry(url, { fetch }).list().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidEnrollment);
    expect((error as Error).message).toMatch(
      `${shown}: more than the 32 MiB an enrollment registry may hold`,
    );
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(40);
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
