import { type Agent, createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SvidClient } from '../../client';
import type { SpireSvidSecret } from '../../client/spiffe/spire-secret';
import { secretBinary } from './test-svids';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:trust-bridge/svid/prod/test-AbCdEf';

/** A client reading `secret` (as SecretBinary) instead of Secrets Manager. */
export const clientFor = (secret: SpireSvidSecret) =>
  new SvidClient({ secretArn: ARN, source: async () => secretBinary(secret) });

export type Outcome = { status: number; body: string } | { error: Error };

/** GET / on 127.0.0.1:`port` through `agent`: the answer, or the error that stopped the request. */
export function call(port: number, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', (error) => resolve({ error }));
  });
}

export interface MeshService {
  port: number;
  /** Requests that reached the handler, by caller SPIFFE ID or refusal. */
  seen: string[];
  /** TLS handshakes the server refused with an error. */
  tlsErrors: Error[];
  close(): Promise<void>;
}

/**
 * A mesh service on 127.0.0.1 built with the client's server helper: it answers `hello <caller>` to
 * callers on `allowedClients` and 403 to others.
 */
export async function startMeshService(
  secret: SpireSvidSecret,
  allowedClients: string[],
): Promise<MeshService> {
  const mtls = await clientFor(secret).mtlsServer(allowedClients);
  const seen: string[] = [];
  const tlsErrors: Error[] = [];
  const server: Server = createServer(mtls.options, (request, response) => {
    try {
      const caller = mtls.authorize(request.socket as TLSSocket);
      seen.push(caller);
      response.end(`hello ${caller}`);
    } catch (error) {
      seen.push(`refused: ${(error as Error).message}`);
      response.writeHead(403).end((error as Error).message);
    }
  });
  server.on('tlsClientError', (error) => tlsErrors.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    tlsErrors,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
