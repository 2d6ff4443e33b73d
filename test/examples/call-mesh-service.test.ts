import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type MeshService, startMeshService } from '../support/mesh-service';
import { secretBinary, TestTrustDomains } from '../support/test-svids';

/**
 * The example function as deployed: its SVID comes through a stand-in for the Parameters and Secrets
 * extension (found on its port, as on Lambda), and it calls a local mesh service over mTLS.
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:trust-bridge/svid/prod/payments-AbCdEf';
const PAYMENTS = 'spiffe://example.org/prod/payments';
const ORDERS = 'spiffe://example.org/prod/orders';
const TOKEN = 'example-session-token';

let domains: TestTrustDomains;
let mesh: MeshService;
let extension: Server;
let extensionReads = 0;
const savedEnv = { ...process.env };

beforeAll(async () => {
  domains = await TestTrustDomains.create({ ours: 'example.org' });
  const svid = secretBinary(await domains.secret('ours', PAYMENTS));
  mesh = await startMeshService(await domains.secret('ours', ORDERS), [PAYMENTS]);
  extension = createServer((request, response) => {
    const wanted = `/secretsmanager/get?secretId=${encodeURIComponent(ARN)}`;
    if (request.headers['x-aws-parameters-secrets-token'] !== TOKEN || request.url !== wanted) {
      response.writeHead(400).end('400 Bad Request');
      return;
    }
    extensionReads++;
    response.end(
      JSON.stringify({ ARN, SecretBinary: Buffer.from(svid).toString('base64'), SecretString: null }),
    );
  });
  await new Promise<void>((resolve) => extension.listen(0, 'localhost', resolve));
  Object.assign(process.env, {
    AWS_SESSION_TOKEN: TOKEN,
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String((extension.address() as AddressInfo).port),
    SVID_SECRET_ARN: ARN,
    MESH_SERVICE_URL: `https://127.0.0.1:${mesh.port}`,
    MESH_SERVICE_SPIFFE_ID: ORDERS,
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await mesh.close();
  await new Promise<void>((resolve) => extension.close(() => resolve()));
  await domains.close();
});

describe('examples/call-mesh-service', () => {
  it('calls the mesh service as its SPIFFE ID, reading the SVID once for many invocations', async () => {
    const { handler } = await import('../../examples/call-mesh-service/handler');
    for (let i = 0; i < 3; i++) {
      expect(await handler({ path: '/orders' })).toEqual({ statusCode: 200, body: `hello ${PAYMENTS}` });
    }
    expect(extensionReads).toBe(1);
    expect(mesh.seen).toEqual([PAYMENTS, PAYMENTS, PAYMENTS]);
  });
});
