import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { mockDeployedStacks } from '../support/deployed-stacks';
import { main } from '../../cli/main';
import { notifyCommand } from '../../cli/notify';
import {
  parseWebhookKey,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../../functions/shared/domain/webhook';

/**
 * `notify --aws`: the receiver's URL and its signing key come from the deployed stack's outputs (WebhookUrl,
 * WebhookSigningKeyArn); --url still overrides the URL. The "function URLs" are local HTTP servers.
 */

const stacks = mockDeployedStacks();
const { cloudFormation } = stacks;
const secretsManager = mockClient(SecretsManagerClient as never);
const GetSecretValue = GetSecretValueCommand as never;

const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:WebhookSigningKey-r4nd0m-AbCdEf';
const KEY_HEX = '0123456789abcdef'.repeat(4);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
const receiver = () => {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end('{"status":"accepted"}');
    });
  });
  return { server, received };
};
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const deployed = receiver();
const other = receiver();
let printed: string[];

beforeAll(async () => {
  await Promise.all(
    [deployed.server, other.server].map(
      (server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    ),
  );
});
afterAll(async () => {
  await Promise.all(
    [deployed.server, other.server].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    ),
  );
});

const stackWith = stacks.deploy;
const describedStacks = stacks.described;

beforeEach(() => {
  stacks.reset();
  secretsManager.reset();
  deployed.received.length = 0;
  other.received.length = 0;
  printed = [];
  jest.restoreAllMocks();
  jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  stackWith('trust-bridge-prod', { WebhookUrl: urlOf(deployed.server), WebhookSigningKeyArn: KEY_ARN });
  secretsManager
    .on(GetSecretValue, { SecretId: KEY_ARN, VersionStage: 'AWSCURRENT' } as never)
    .resolves({ SecretString: KEY_HEX } as never);
  secretsManager
    .on(GetSecretValue, { SecretId: KEY_ARN, VersionStage: 'AWSPREVIOUS' } as never)
    .rejects(Object.assign(new Error('no previous version'), { name: 'ResourceNotFoundException' }));
});

const notify = (...argv: string[]) =>
  notifyCommand(['--secret', 'db-password', '--aws', '--region', 'eu-west-1', ...argv], {
    env: {},
    print: (line) => printed.push(line),
  });

/** Whether a delivery is signed with the deployed key. */
const signedWithDeployedKey = ({ headers, body }: Received) =>
  verifyWebhookSignature(
    [parseWebhookKey(KEY_HEX, 'test key')],
    Number(headers[TIMESTAMP_HEADER.toLowerCase()]),
    body,
    String(headers[SIGNATURE_HEADER.toLowerCase()]),
  );

describe('notify --aws', () => {
  it('posts to the stack’s WebhookUrl, signed with the key its WebhookSigningKeyArn names, from one lookup', async () => {
    expect(await notify('--stage', 'prod')).toBe(0);
    expect(printed[0]).toBe('202 Accepted');
    expect(deployed.received).toHaveLength(1);
    expect(signedWithDeployedKey(deployed.received[0] as Received)).toBe(true);
    expect(JSON.parse(deployed.received[0]?.body ?? '')).toMatchObject({ secret: 'db-password' });
    expect(describedStacks()).toEqual(['trust-bridge-prod']);
    expect(
      secretsManager
        .commandCalls(GetSecretValue)
        .map((c) => (c.args[0] as GetSecretValueCommand).input.SecretId),
    ).toContain(KEY_ARN);
  });

  it('--url overrides the output: the delivery goes there, still signed with the deployed key', async () => {
    expect(await notify('--stage', 'prod', '--url', urlOf(other.server))).toBe(0);
    expect(deployed.received).toHaveLength(0);
    expect(other.received).toHaveLength(1);
    expect(signedWithDeployedKey(other.received[0] as Received)).toBe(true);
  });

  it('--stack names the stack to read', async () => {
    stackWith('platform-webhooks', { WebhookUrl: urlOf(other.server), WebhookSigningKeyArn: KEY_ARN });
    expect(await notify('--stack', 'platform-webhooks')).toBe(0);
    expect(other.received).toHaveLength(1);
    expect(describedStacks()).toEqual(['platform-webhooks']);
  });

  it('asks no stack when TRUST_BRIDGE_WEBHOOK_KEY and --url give both', async () => {
    const code = await notifyCommand(
      ['--secret', 'a', '--aws', '--stage', 'prod', '--url', urlOf(other.server)],
      { env: { TRUST_BRIDGE_WEBHOOK_KEY: KEY_HEX }, print: (line) => printed.push(line) },
    );
    expect(code).toBe(0);
    expect(other.received).toHaveLength(1);
    expect(cloudFormation.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('names the stack and the output it lacks, and sends nothing', async () => {
    stackWith('trust-bridge-prod', { WebhookSigningKeyArn: KEY_ARN });
    await expect(notify('--stage', 'prod')).rejects.toThrow(
      'stack trust-bridge-prod has no output WebhookUrl: deploy this version first',
    );
    expect(deployed.received).toHaveLength(0);
  });

  it('says, with exit 1, when the stage has no stack', async () => {
    const code = await main(['notify', '--secret', 'a', '--aws', '--stage', 'qa', '--region', 'eu-west-1']);
    expect(code).toBe(1);
    expect(printed.join('\n')).toContain(
      'trust-bridge notify: DeployedStackError: no stack trust-bridge-qa in region eu-west-1',
    );
    expect(describedStacks()).toEqual(['trust-bridge-qa']);
    expect(deployed.received).toHaveLength(0);
  });

  it('refuses --stack without --aws', async () => {
    const code = await notifyCommand(['--secret', 'a', '--stack', 'x'], { env: {} });
    expect(code).toBe(2);
    expect(printed.join('\n')).toContain('--stack needs --aws');
    expect(cloudFormation.calls()).toHaveLength(0);
  });
});
