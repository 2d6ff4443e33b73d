/**
 * Which service a caller is, as Keywhiz maps a client certificate to a client: by the one SPIFFE ID in the
 * certificate the TLS handshake already verified.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { spiffeIdOf } from '../../../client/spiffe/x509-svid';
import { HttpError } from './answers';
import { isPlainName } from './secrets-directory';

/** The service a client SPIFFE ID stands for; undefined: an unknown client, refused everything. */
export type ServiceOf = (spiffeId: string) => string | undefined | Promise<string | undefined>;

/**
 * Each connection's caller, read once: an agent's requests share a kept-alive connection, and parsing the
 * certificate anew for each of them was most of the dev server's time per request.
 */
const callers = new WeakMap<TLSSocket, string | undefined>();

const callerOf = (socket: TLSSocket): string | undefined => {
  if (callers.has(socket)) return callers.get(socket);
  const peer = socket.getPeerX509Certificate();
  let spiffeId: string | undefined;
  try {
    spiffeId = peer && spiffeIdOf(peer);
  } catch {
    spiffeId = undefined;
  }
  callers.set(socket, spiffeId);
  return spiffeId;
};

/**
 * The caller's service. A certificate whose SPIFFE ID maps to no client (or to a name no service folder can
 * have) is authenticated but unknown: 401, as Keywhiz answers.
 */
export async function callerService(req: IncomingMessage, serviceOf: ServiceOf): Promise<string> {
  const spiffeId = callerOf(req.socket as TLSSocket);
  const service = spiffeId && (await serviceOf(spiffeId));
  if (!service || !isPlainName(service)) {
    throw new HttpError(401, `client ${spiffeId ?? 'without a SPIFFE ID'} is not a Keywhiz client here`);
  }
  return service;
}
