/**
 * Example: a Lambda function calling a mesh service over mTLS with its trust-bridge SVID.
 *
 * Environment:
 * - SVID_SECRET_ARN: the function's SVID secret in the central account (full ARN);
 * - MESH_SERVICE_URL: e.g. https://orders.mesh.example.org:8443;
 * - MESH_SERVICE_SPIFFE_ID: who must answer there, e.g. spiffe://example.org/prod/orders.
 * With the AWS Parameters and Secrets Lambda Extension layer attached the SVID is read through it,
 * otherwise with GetSecretValue. See client/README.md for the IAM the function's role needs.
 */
import type { Agent } from 'node:https';
import { request } from 'node:https';
import { SvidClient } from '../../client';

// Outside the handler: one client per execution environment, so warm invocations reuse the cached
// SVID and the kept-alive mTLS connections.
const svids = new SvidClient({ secretArn: required('SVID_SECRET_ARN') });
const meshUrl = new URL(required('MESH_SERVICE_URL'));
const meshId = required('MESH_SERVICE_SPIFFE_ID');

export const handler = async (event: { path?: string }): Promise<{ statusCode: number; body: string }> => {
  // Asked per invocation: the same agent until the SVID is renewed, then one presenting the new SVID.
  const agent = await svids.httpsAgent([meshId]);
  return get(new URL(event.path ?? '/', meshUrl), agent);
};

function get(url: URL, agent: Agent): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { agent, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ statusCode: response.statusCode ?? 502, body }));
      response.on('error', reject);
    });
    call.on('timeout', () => call.destroy(new Error(`${url.origin} did not answer in 5 s`)));
    // A server that is not MESH_SERVICE_SPIFFE_ID fails here with PeerNotAuthorized, before any request is sent.
    call.on('error', reject);
    call.end();
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
