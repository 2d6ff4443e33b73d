import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  SECRET_CHANGED_DETAIL_TYPE,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  WEBHOOK_MAX_BODY_BYTES,
  WEBHOOK_MAX_SKEW_SECONDS,
} from '../functions/shared/domain/webhook';
import { createLocalStack, RECEIVER_TIMEOUTS } from '../local-stack/stack';
import { seededRandom } from './fault-injection';
import { markdownTable, peakRssMb, runScenarioInChild } from './rotation-bench';

export const FUZZ_USAGE = `bench fuzz [options]
  Seeded webhook fuzzing of the local receiver on loopback (in a process of its own): valid, replayed,
  malformed, stale, oversized and stalled requests, a bounded number at once. Prints requests sent, invalid
  ones accepted (must be 0), 5xx answers, stalled connections the receiver left open (must be 0), peak RSS.

  --requests N     requests besides the stalled ones (default 20000)
  --stalled N      connections that stall inside their headers or body (default 32, all at once)
  --concurrency N  requests in flight at once (default 16)
  --seed N         the run to reproduce (default 1)
  --json           also print every figure as one JSON line`;

/** What a request is, and so what the receiver must answer. */
type Kind = 'valid' | 'duplicate' | 'malformed' | 'stale' | 'oversized' | 'raw' | 'stalled';

interface Outcome {
  kind: Kind;
  /** The HTTP status, or how the connection ended without one. */
  answer: string;
  /** A 202 whose body says accepted. */
  accepted: boolean;
}

interface FuzzFigures {
  seed: number;
  concurrency: number;
  sent: number;
  byKind: Record<string, number>;
  answers: Record<string, number>;
  validAccepted: number;
  validRefused: number;
  invalidAccepted: number;
  duplicatesAnswered: number;
  fiveXx: number;
  /** Changes the receiver put on the bus: must equal the valid deliveries accepted. */
  changesAnnounced: number;
  stalledLeftOpen: number;
  seconds: number;
  peakRssMb: number;
  targets: Record<string, boolean>;
}

/** The seeded generator, with the two draws the fuzzer makes. */
const draws = (seed: number) => {
  const next = seededRandom(seed);
  return {
    next,
    /** A whole number in [0, n). */
    below: (n: number): number => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
};
type Random = ReturnType<typeof draws>;

/** One request as bytes on a fresh connection, for what fetch refuses to send (bad framing, bad headers). */
interface RawRequest {
  head: string;
  body?: Buffer;
  /** Stop sending and wait for the receiver to end the connection. */
  stall?: boolean;
}

interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type Request = { kind: Kind; http: HttpRequest } | { kind: Kind; raw: RawRequest };

const SAMPLE_SECRETS = ['Database_Password', 'stripe-api-key', 'General_Password..0be68f903f8b7d86'];
const EVENTS = ['secret.created', 'secret.updated', 'secret.deleted'];
const nowSeconds = () => Math.floor(Date.now() / 1000);

const change = (random: Random, deliveryId: string) =>
  JSON.stringify({
    deliveryId,
    event: random.pick(EVENTS),
    secret: random.pick(SAMPLE_SECRETS),
    services: ['payments'],
  });

const signed = (key: Uint8Array, body: string | Buffer, timestamp = nowSeconds()): HttpRequest => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signWebhook(key, timestamp, body),
  },
  body: Buffer.from(body),
});

/** Signed bodies that are not a delivery: each breaks one rule of the schema. */
const badDeliveries = (id: string): unknown[] => [
  { deliveryId: id, event: 'secret.renamed', secret: 'a', services: ['payments'] },
  { deliveryId: id, event: 'secret.updated', secret: '', services: ['payments'] },
  { deliveryId: id, event: 'secret.updated', secret: 'a', services: [] },
  { deliveryId: id, event: 'secret.updated', secret: 'a', services: ['../etc'] },
  { deliveryId: 42, event: 'secret.updated', secret: 'a' },
  { deliveryId: id, event: 'secret.updated', secret: 'a', extra: true },
  { event: 'secret.updated', secret: 'a' },
  { deliveryId: id, event: 'secret.updated', secret: 'x'.repeat(10_000) },
  [],
  null,
  'secret.updated',
];

/** A request that the receiver must refuse, signed or not, well framed (sent with fetch). */
const malformed = (random: Random, key: Uint8Array, i: number): HttpRequest => {
  const body = change(random, `fuzz-bad-${i}`);
  const good = signed(key, body);
  const stranger = new Uint8Array(32).map(() => random.below(256));
  const without = (name: string) =>
    Object.fromEntries(Object.entries(good.headers).filter(([n]) => n !== name));
  const variants: Array<() => HttpRequest> = [
    () => ({ ...good, headers: { ...good.headers, [SIGNATURE_HEADER]: `v1=${'0'.repeat(64)}` } }),
    () => signed(stranger, body),
    () => ({ ...good, headers: without(SIGNATURE_HEADER) }),
    () => ({ ...good, headers: without(TIMESTAMP_HEADER) }),
    () => ({
      ...good,
      headers: {
        ...good.headers,
        [TIMESTAMP_HEADER]: random.pick(['abc', '1e9', '-5', ' ', '9'.repeat(40)]),
      },
    }),
    () => {
      // One byte flipped after signing.
      const bytes = Buffer.from(body);
      const at = random.below(bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << random.below(8));
      return { ...good, body: bytes };
    },
    () => signed(key, body.slice(0, random.below(body.length))),
    () => signed(key, JSON.stringify(random.pick(badDeliveries(`fuzz-bad-${i}`)))),
    () => ({
      ...good,
      headers: { ...good.headers, 'content-type': random.pick(['text/plain', '', 'json']) },
    }),
    () => ({ ...good, headers: { ...good.headers, 'content-type': 'application/json; charset=latin1' } }),
    () => ({ ...good, method: random.pick(['GET', 'PUT', 'DELETE', 'PATCH']) }),
    () => signed(key, Buffer.from([0xff, 0xfe, 0x7b, 0x7d])),
    () => signed(key, ''),
    () => ({
      ...good,
      headers: {
        ...good.headers,
        [SIGNATURE_HEADER]: random.pick(['v0=abcd', 'v1=', `v1=${'z'.repeat(64)}`, 'sha256=00']),
      },
    }),
  ];
  return random.pick(variants)();
};

/** Requests only a raw socket can send: bad framing and headers Node's parser must refuse. */
const raw = (random: Random, host: string): RawRequest => {
  const variants: Array<() => RawRequest> = [
    () => ({ head: Buffer.from(Array.from({ length: 64 }, () => random.below(256))).toString('latin1') }),
    () => ({ head: `POST / HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` }),
    () => ({ head: `POST / HTTP/1.1\r\nHost: ${host}\r\nBad Header: x\r\n\r\n` }),
    () => ({
      head: `POST / HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    }),
    () => ({ head: `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}` }),
    () => ({ head: `POST / HTTP/9.9\r\nHost: ${host}\r\n\r\n` }),
  ];
  return random.pick(variants)();
};

/** A request that stops halfway: inside its headers, or inside its body. */
const stalled = (random: Random, host: string): RawRequest =>
  random.next() < 0.5
    ? { head: `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`, stall: true }
    : {
        head: `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"deliveryId":`,
        stall: true,
      };

/** The seeded mix: most requests are bad, as a hostile sender's would be; a few are valid or replays. */
const nextRequest = (
  random: Random,
  key: Uint8Array,
  i: number,
  host: string,
  /** Valid deliveries already answered (a replay racing its original could be the one that is accepted). */
  validSent: HttpRequest[],
): Request => {
  const roll = random.next();
  if (roll < 0.1) {
    return { kind: 'valid', http: signed(key, change(random, `fuzz-${i}`)) };
  }
  if (roll < 0.15 && validSent.length > 0) {
    // A replay of an answered delivery: the same id, sent again as captured or signed anew.
    const earlier = random.pick(validSent);
    const http = random.next() < 0.5 ? earlier : signed(key, earlier.body ?? '');
    return { kind: 'duplicate', http };
  }
  if (roll < 0.3) {
    const age = (WEBHOOK_MAX_SKEW_SECONDS + 1 + random.below(86_400)) * (random.next() < 0.7 ? 1 : -1);
    return { kind: 'stale', http: signed(key, change(random, `fuzz-stale-${i}`), nowSeconds() - age) };
  }
  if (roll < 0.4) {
    // Mostly just past the receiver's 64 KB; one in twenty past the function URL's 6 MB.
    const size =
      random.next() < 0.05
        ? 6 * 1024 * 1024 + 1 + random.below(1024 * 1024)
        : WEBHOOK_MAX_BODY_BYTES + 1 + random.below(4096);
    const padding = 'x'.repeat(size);
    return {
      kind: 'oversized',
      http: signed(key, JSON.stringify({ deliveryId: `fuzz-big-${i}`, secret: 'a', padding })),
    };
  }
  if (roll < 0.45) return { kind: 'raw', raw: raw(random, host) };
  return { kind: 'malformed', http: malformed(random, key, i) };
};

const send = async (url: string, request: HttpRequest): Promise<{ answer: string; accepted: boolean }> => {
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body && request.method !== 'GET' ? { body: request.body } : {}),
    });
    const text = await response.text();
    return {
      answer: String(response.status),
      accepted: response.status === 202 && /"status":"accepted"/.test(text),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { answer: cause?.code ?? (error as Error).name, accepted: false };
  }
};

/** Sends a raw request and reads until the receiver ends the connection, or `limitMs` passes. */
const sendRaw = (
  url: URL,
  request: RawRequest,
  limitMs: number,
): Promise<{ answer: string; accepted: boolean }> =>
  new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = 'left-open';
      socket.destroy();
    }, limitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code ?? error.name;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({
        answer: failure === 'left-open' ? failure : (status ?? failure ?? 'closed'),
        accepted: /^HTTP\/1\.1 202/.test(text) && /"status":"accepted"/.test(text),
      });
    });
    socket.write(request.head);
    if (request.body) socket.write(request.body);
    if (!request.stall) socket.end();
  });

const runFuzz = async (o: { requests: number; stalled: number; concurrency: number; seed: number }) => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-webhook-fuzz-'));
  const samples = fileURLToPath(new URL('../samples/', import.meta.url));
  const keywhizDir = join(dir, 'keywhiz');
  cpSync(join(samples, 'keywhiz'), keywhizDir, { recursive: true });
  const dataDir = join(dir, 'data');
  const stack = await createLocalStack({
    dataDir,
    enrollmentsPath: join(samples, 'enrollments.yaml'),
    keywhizDir,
    logLevel: 'SILENT',
  });
  const server = await stack.serveWebhooks(0);
  try {
    // The accepted deliveries start syncs, as on `start --serve`: those need the SVIDs.
    const rotation = await stack.rotate();
    if (rotation.status !== 'SUCCEEDED') throw new Error(`rotation ${rotation.status}: ${rotation.error}`);
    const [key] = await stack.deps.webhookKeys.keys();
    if (!key) throw new Error('the local stack has no webhook signing key');
    const url = new URL(server.url);
    const random = draws(o.seed);
    const outcomes: Outcome[] = [];
    const validSent: HttpRequest[] = [];
    const started = performance.now();
    // Stalled connections, all at once beside the stream: the receiver must end each within its timeouts.
    const stallLimitMs = Math.max(RECEIVER_TIMEOUTS.headersMs, RECEIVER_TIMEOUTS.requestMs) + 5_000;
    const stalls = Array.from({ length: o.stalled }, () =>
      sendRaw(url, stalled(random, url.host), stallLimitMs).then((r) =>
        outcomes.push({ kind: 'stalled', ...r }),
      ),
    );
    let next = 0;
    const worker = async () => {
      while (next < o.requests) {
        const i = next++;
        const request = nextRequest(random, key, i, url.host, validSent);
        const result =
          'raw' in request ? await sendRaw(url, request.raw, 10_000) : await send(server.url, request.http);
        outcomes.push({ kind: request.kind, ...result });
        if (request.kind === 'valid' && 'http' in request) validSent.push(request.http);
      }
    };
    await Promise.all([...Array.from({ length: o.concurrency }, worker), ...stalls]);
    const seconds = (performance.now() - started) / 1000;
    await stack.settled();

    const tally = (items: string[]) =>
      items.reduce<Record<string, number>>(
        (counts, item) => ({ ...counts, [item]: (counts[item] ?? 0) + 1 }),
        {},
      );
    const valid = outcomes.filter((r) => r.kind === 'valid');
    const invalid = outcomes.filter((r) => r.kind !== 'valid');
    const changesAnnounced = (await stack.auditEvents()).filter(
      (e) => e['detail-type'] === SECRET_CHANGED_DETAIL_TYPE,
    ).length;
    const validAccepted = valid.filter((r) => r.accepted).length;
    const invalidAccepted = invalid.filter(
      (r) => r.accepted || (/^2/.test(r.answer) && r.kind !== 'duplicate'),
    ).length;
    const fiveXx = outcomes.filter((r) => /^5/.test(r.answer)).length;
    const stalledLeftOpen = outcomes.filter((r) => r.answer === 'left-open').length;
    const rss = peakRssMb();
    const figures: FuzzFigures = {
      seed: o.seed,
      concurrency: o.concurrency,
      sent: outcomes.length,
      byKind: tally(outcomes.map((r) => r.kind)),
      answers: tally(outcomes.map((r) => r.answer)),
      validAccepted,
      validRefused: valid.length - validAccepted,
      invalidAccepted,
      duplicatesAnswered: outcomes.filter((r) => r.kind === 'duplicate' && r.answer === '202').length,
      fiveXx,
      changesAnnounced,
      stalledLeftOpen,
      seconds: Math.round(seconds * 10) / 10,
      peakRssMb: rss,
      targets: {
        '0 invalid requests accepted': invalidAccepted === 0,
        '0 5xx answers': fiveXx === 0,
        'every valid delivery accepted': valid.length === validAccepted,
        'changes announced = valid deliveries accepted': changesAnnounced === validAccepted,
        '0 stalled connections left open': stalledLeftOpen === 0,
      },
    };
    return figures;
  } finally {
    await server.close();
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const report = (f: FuzzFigures): string =>
  [
    markdownTable(
      [
        'fuzz',
        'sent',
        'invalid accepted',
        '5xx',
        'valid accepted / refused',
        'changes announced',
        'stalled left open',
        'wall s',
        'peak RSS MB',
      ],
      [
        [
          `seed ${f.seed}, concurrency ${f.concurrency}`,
          f.sent,
          f.invalidAccepted,
          f.fiveXx,
          `${f.validAccepted} / ${f.validRefused}`,
          f.changesAnnounced,
          f.stalledLeftOpen,
          f.seconds,
          f.peakRssMb,
        ],
      ],
    ),
    '',
    `by kind: ${Object.entries(f.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `answers: ${Object.entries(f.answers)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ')}`,
    ...Object.entries(f.targets).map(([target, met]) => `- ${target}: ${met ? 'met' : 'NOT MET'}`),
  ].join('\n');

/** `bench fuzz`: the fuzzing run in a child process (its peak RSS its own), then its figures. */
export const fuzzBenchCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string', default: '20000' },
      stalled: { type: 'string', default: '32' },
      concurrency: { type: 'string', default: '16' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      scenario: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options = {
    requests: Number(values.requests),
    stalled: Number(values.stalled),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
  };
  const bad = Object.entries(options).filter(
    ([name, n]) => !Number.isInteger(n) || n < (name === 'stalled' ? 0 : 1),
  );
  if (bad.length > 0) {
    console.error(`${bad.map(([name]) => `--${name}`).join(', ')}: must be a whole number\n\n${FUZZ_USAGE}`);
    return 2;
  }
  if (values.scenario) {
    console.log(JSON.stringify(await runFuzz(options)));
    return 0;
  }
  console.error(
    `fuzzing the local receiver with ${options.requests} requests and ${options.stalled} stalled ones...`,
  );
  const figures = runScenarioInChild<FuzzFigures>(['--scenario']);
  if (!figures) return 1;
  console.log(report(figures));
  if (values.json) console.log(JSON.stringify(figures));
  return 0;
};
