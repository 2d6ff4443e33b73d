import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type LambdaLikeContext, lambdaContext } from '../engine/task-binding';

/** A function URL handler, as createHandler in functions/receive-webhook builds it. */
export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: LambdaLikeContext,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface WebhookServerOptions {
  handler: FunctionUrlHandler;
  /** Default 127.0.0.1: the receiver is for this machine only. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** The receiver's own limits on slow or idle clients (defaults: RECEIVER_TIMEOUTS). */
  timeouts?: Partial<ReceiverTimeouts>;
}

export interface WebhookServer {
  /** e.g. `http://127.0.0.1:8787/` */
  url: string;
  close(): Promise<void>;
}

/** How long a client may take, in ms; past each the connection is answered 408 or closed. */
export interface ReceiverTimeouts {
  /** To send the whole header block. */
  headersMs: number;
  /** To send the whole request, body included. */
  requestMs: number;
  /** A kept-alive connection's idle time between requests. */
  keepAliveMs: number;
}

/** A delivery is a few hundred bytes sent at once: a sender that needs seconds for it is stalled. */
export const RECEIVER_TIMEOUTS: ReceiverTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
};
/** Connections open at once; more are refused, so stalled clients cannot pile up without bound. */
const MAX_CONNECTIONS = 256;

/** Lambda function URLs take at most 6 MB of request; a larger body never reaches the function. */
const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;
/**
 * Past the limit the rest of a body is read and dropped, so the connection can close cleanly (closing with
 * unread input sends a reset that can destroy the answer before the client reads it), up to this much more.
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:trust-bridge-local-receive-webhook';
const HANDLER_TIMEOUT_MS = 30_000;

/**
 * The local front of the webhook receiver: a node:http server that turns each request into the event a
 * Lambda function URL would send (raw body, base64-encoded so its bytes arrive unchanged; header names in
 * lower case) and writes the handler's result back, so the same Middy handler answers here and on AWS.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const host = options.host ?? '127.0.0.1';
  const timeouts = { ...RECEIVER_TIMEOUTS, ...options.timeouts };
  const server = createServer(
    {
      // Node refuses a headers timeout longer than the request's: the headers are part of the request.
      headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs, timeouts.requestMs),
    },
    (request, response) => {
      serve(options.handler, request, response).catch(() => {
        // The handler answers every error itself; this is the stream failing (client gone).
        if (!response.headersSent) response.writeHead(502, { connection: 'close' });
        response.end();
      });
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(handler: FunctionUrlHandler, request: IncomingMessage, response: ServerResponse) {
  const body = await readBody(request);
  if (body === 'too-large') {
    response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    response.end(JSON.stringify({ error: 'body-too-large', message: 'the request exceeds 6 MB' }));
    return;
  }
  const result = await handler(
    functionUrlEvent(request, body),
    lambdaContext(FUNCTION_ARN, HANDLER_TIMEOUT_MS),
  );
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  // A sender of an oversized body is told to open a new connection rather than reuse this one.
  if (result.statusCode === 413) headers.connection = 'close';
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8'));
}

/**
 * The whole body, or 'too-large' past the function URL limit. Past it the rest is read and dropped (so the
 * answer reaches the client), and a client sending far more still is cut off.
 */
async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FUNCTION_URL_MAX_REQUEST_BYTES + MAX_DISCARDED_BYTES) {
      request.destroy();
      break;
    }
    if (size <= FUNCTION_URL_MAX_REQUEST_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size > FUNCTION_URL_MAX_REQUEST_BYTES ? 'too-large' : Buffer.concat(chunks);
}

function functionUrlEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  // Node already lower-cases names; repeated headers are joined with commas, as function URLs do.
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const at = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: at.toISOString(),
      timeEpoch: at.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0,
  };
}
