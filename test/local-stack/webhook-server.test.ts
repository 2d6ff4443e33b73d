import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type FunctionUrlHandler,
  startWebhookServer,
  type WebhookServer,
} from '../../local-stack/webhook-server';

let server: WebhookServer | undefined;
let handled: number;

const start = async (
  handler: FunctionUrlHandler = async () => ({ statusCode: 202, body: '{"status":"accepted"}' }),
  timeouts?: Parameters<typeof startWebhookServer>[0]['timeouts'],
) => {
  handled = 0;
  server = await startWebhookServer({
    handler: async (event, context) => {
      handled += 1;
      return handler(event, context);
    },
    port: 0,
    ...(timeouts ? { timeouts } : {}),
  });
  return new URL(server.url);
};
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** What a raw client saw on one connection: the bytes, and whether the server ended it with a FIN or a reset. */
interface Exchange {
  text: string;
  ended: 'fin' | string;
  ms: number;
}

/** Writes `head` (and `body`) on a fresh connection and reads until the server ends it. */
const exchange = (url: URL, head: string, body?: Buffer): Promise<Exchange> =>
  new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let ended: string | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      ended ??= 'fin';
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      ended ??= error.code ?? error.message;
    });
    socket.on('close', () =>
      resolve({
        text: Buffer.concat(chunks).toString('latin1'),
        ended: ended ?? 'fin',
        ms: performance.now() - started,
      }),
    );
    socket.write(head);
    if (body) socket.write(body);
  });

const post = (url: URL, body: Buffer, agent: Agent) =>
  new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const SEVEN_MB = Buffer.alloc(7 * 1024 * 1024, 0x61);

describe('local webhook server: a refused body closes the connection cleanly', () => {
  it('answers a body over 6 MB with 413 and Connection: close, then ends the socket with a FIN, not a reset', async () => {
    const url = await start();
    const seen = await exchange(
      url,
      `POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${SEVEN_MB.length}\r\n\r\n`,
      SEVEN_MB,
    );
    expect(seen.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(seen.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(seen.text).toContain('"error":"body-too-large"');
    expect(seen.ended).toBe('fin');
    expect(handled).toBe(0);
  });

  it('lets a keep-alive client go on after a 413: its next request, on a new connection, is answered', async () => {
    const url = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await post(url, SEVEN_MB, agent);
      expect(refused).toMatchObject({ status: 413, connection: 'close' });
      for (let i = 0; i < 3; i++) {
        expect(await post(url, Buffer.from('{}'), agent)).toMatchObject({ status: 202 });
      }
      expect(handled).toBe(3);
    } finally {
      agent.destroy();
    }
  });

  it("closes the connection after the handler's own 413 too", async () => {
    const url = await start(async () => ({ statusCode: 413, body: '{"error":"body-too-large"}' }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await post(url, Buffer.alloc(70_000, 0x61), agent)).toMatchObject({
        status: 413,
        connection: 'close',
      });
    } finally {
      agent.destroy();
    }
  });
});

describe('local webhook server: its own timeouts end stalled clients', () => {
  it('by default ends a client that stalls inside its headers within about 10 s (Node alone waits 60 s)', async () => {
    const url = await start();
    const seen = await exchange(
      url,
      `POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n`,
    );
    expect(seen.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(seen.ms).toBeGreaterThan(9_000);
    expect(seen.ms).toBeLessThan(12_500);
    expect(handled).toBe(0);
  }, 20_000);

  it('ends a client that stalls inside its body once the request timeout passes', async () => {
    const url = await start(undefined, { requestMs: 500 });
    const seen = await exchange(
      url,
      `POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"deliveryId":`,
    );
    expect(seen.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(seen.ms).toBeLessThan(2_500);
    expect(handled).toBe(0);
  });

  it('closes a kept-alive connection left idle past the keep-alive timeout', async () => {
    const url = await start(undefined, { keepAliveMs: 300 });
    const seen = await exchange(
      url,
      `POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(seen.text).toMatch(/^HTTP\/1\.1 202 /);
    expect(seen.ended).toBe('fin');
    expect(seen.ms).toBeLessThan(2_000);
  });
});
