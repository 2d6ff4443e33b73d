/**
 * The packaged zips, as `npm run package` builds them, run against moto: each handler imported from its unzipped
 * artifact in a fresh node process, with the environment the packaged template gives it. Only the values that name
 * resources made in moto for the test (the CA, the webhook key, the table) are replaced. moto acts in its default
 * account, which no other contract file uses.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSvidKeyAndCsr } from '../../functions/shared/domain/svid-key';
import { signedWebhookHeaders } from '../../functions/shared/domain/webhook';
import { KeywhizDevServer } from '../../local-stack/stand-ins/keywhiz/keywhiz-dev-server';
import { SoftwareCertificateAuthority } from '../../local-stack/stand-ins/software-ca/software-ca';
import { resolveStack, type ResolvedStack } from '../support/intrinsics';
import { renderOnboarding } from '../support/onboarding';
import { activeMotoCertificateAuthority } from '../support/moto-ca';
import {
  MOTO_DEFAULT_ACCOUNT_ID as ACCOUNT,
  MOTO_REGION as REGION,
  motoClientConfig,
  motoEndpoint,
  motoEnvironment,
} from '../support/moto';
import { invoke, lambdaContext, type PackagedFunction, unzipFunction } from '../support/packaged-function';
import { type CfnTemplate, packageStack } from '../support/packaged-stack';

let template: CfnTemplate;
let stack: ResolvedStack;
const zips: Record<string, PackagedFunction> = {};
const secretsManager = () => new SecretsManagerClient(motoClientConfig());

beforeAll(async () => {
  const packaged = await packageStack();
  template = packaged.template;
  stack = resolveStack(template, { accountId: ACCOUNT, region: REGION });
  for (const fn of ['issueSvid', 'retireSvid', 'receiveWebhook', 'syncAgent']) {
    zips[fn] = await unzipFunction(`${packaged.dir}/${fn}.zip`);
  }
  // The audit bus the functions publish on: serverless.yml's default name.
  await new EventBridgeClient(motoClientConfig())
    .send(new CreateEventBusCommand({ Name: 'trust-bridge-audit' }))
    .catch((error: Error) => {
      if (error.name !== 'ResourceAlreadyExistsException') throw error;
    });
}, 300_000);

let ca: Promise<string> | undefined;
/** One CA in moto for the file, made on first use. */
const caArn = () =>
  (ca ??= activeMotoCertificateAuthority(
    new ACMPCAClient(motoClientConfig()),
    'trust-bridge packaged test CA',
  ));

/** The function's variables as the packaged template resolves them in moto's account, with `overrides`. */
const environmentOf = (logicalId: string, overrides: Record<string, string> = {}) => ({
  ...motoEnvironment(),
  ...(stack.resolve(
    (template.Resources[logicalId]!.Properties.Environment as { Variables: object }).Variables,
  ) as Record<string, string>),
  ...overrides,
});

describe('issue-svid', () => {
  const service = `svc${randomUUID().slice(0, 8)}`;
  const item = {
    action: 'issue',
    accountId: '111122223333',
    service,
    environment: 'prod',
    readerRoles: ['api'],
  };
  let env: Record<string, string>;
  const issue = (runId: string, force = false) =>
    invoke(zips.issueSvid!, env, { runId, force, item }, lambdaContext('issue-svid', ACCOUNT, REGION));

  beforeAll(async () => {
    env = environmentOf('IssueSvidLambdaFunction', { CA_ARN: await caArn() });
  });

  it('issues and stores an SVID, finds its own version on a retry, skips a fresh one, and renews when forced', async () => {
    const first = await issue('run-1');
    expect(first).toMatchObject({ ok: true, result: { status: 'issued', accountId: '111122223333' } });
    const { serial, secretName } = (first as { result: { serial: string; secretName: string } }).result;
    const client = secretsManager();
    const value = JSON.parse(
      Buffer.from(
        (await client.send(new GetSecretValueCommand({ SecretId: secretName }))).SecretBinary!,
      ).toString(),
    ) as Record<string, string>;
    expect(Object.keys(value).sort()).toEqual([
      // SPIRE omits empty fields: no federated bundles, no key.
      'bundle',
      'spiffeID',
      'x509SVID',
      'x509SVIDKey',
    ]);
    expect(value.spiffeID).toBe(`spiffe://example.org/prod/${service}`);
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretName }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'trust-bridge:serial', Value: serial }]));
    const { ResourcePolicy } = await client.send(new GetResourcePolicyCommand({ SecretId: secretName }));
    expect(ResourcePolicy).toContain('arn:aws:iam::111122223333:role/api');

    // The same step again (a Step Functions retry): its version is found, nothing new is written.
    expect(await issue('run-1')).toMatchObject({ ok: true, result: { status: 'issued', serial } });
    const versions = async () =>
      (await client.send(new ListSecretVersionIdsCommand({ SecretId: secretName }))).Versions ?? [];
    expect(await versions()).toHaveLength(1);
    // Another run within the renewal window: nothing is due.
    expect(await issue('run-2')).toMatchObject({ ok: true, result: { status: 'skipped', serial } });
    expect(await versions()).toHaveLength(1);
    // Forced: a new certificate, a second version.
    const forced = await issue('run-3', true);
    expect(forced).toMatchObject({ ok: true, result: { status: 'issued' } });
    expect((forced as { result: { serial: string } }).result.serial).not.toBe(serial);
    expect(await versions()).toHaveLength(2);
  });

  it('fails at init, naming the variable, when one is missing or malformed', async () => {
    const { CA_ARN: _, ...withoutCa } = env;
    const missing = await invoke(
      zips.issueSvid!,
      withoutCa,
      {},
      lambdaContext('issue-svid', ACCOUNT, REGION),
    );
    expect(missing).toMatchObject({
      ok: false,
      error: {
        name: 'InvalidConfiguration',
        message: 'issue-svid: invalid configuration: CA_ARN is not set',
      },
    });
    const malformed = await invoke(
      zips.issueSvid!,
      { ...env, CENTRAL_ACCOUNT_ID: 'central' },
      {},
      lambdaContext('issue-svid', ACCOUNT, REGION),
    );
    expect(malformed).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^issue-svid: invalid configuration: CENTRAL_ACCOUNT_ID: /) },
    });
  });
});

/**
 * moto behind a proxy that answers each operation's first `failures` attempts with a 500, as an overloaded service
 * would, and counts the attempts per operation (its X-Amz-Target).
 */
const failingMoto = async (failures: number) => {
  const upstream = new URL(motoEndpoint());
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`);
    const n = (attempts.get(operation) ?? 0) + 1;
    attempts.set(operation, n);
    if (n <= failures) {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'InternalFailure', message: 'injected by the test proxy' }));
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
};

describe("a function's SDK clients", () => {
  it('retry a failing call where it failed, up to 5 attempts, so the step itself succeeds', async () => {
    const proxy = await failingMoto(4);
    try {
      const service = `retried${randomUUID().slice(0, 8)}`;
      const issued = await invoke(
        zips.issueSvid!,
        environmentOf('IssueSvidLambdaFunction', { CA_ARN: await caArn(), AWS_ENDPOINT_URL: proxy.url }),
        {
          runId: 'run-1',
          force: false,
          item: { action: 'issue', accountId: '111122223333', service, environment: 'prod', readerRoles: [] },
        },
        lambdaContext('issue-svid', ACCOUNT, REGION),
      );
      expect(issued).toMatchObject({ ok: true, result: { status: 'issued' } });
      // Every operation the step made (the CA's and Secrets Manager's) failed 4 times and was then answered.
      expect(proxy.attempts.get('ACMPrivateCA.IssueCertificate')).toBe(5);
      expect(proxy.attempts.get('secretsmanager.CreateSecret')).toBe(5);
      expect(new Set(proxy.attempts.values())).toEqual(new Set([5]));
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

describe('retire-svid', () => {
  it('schedules an issued SVID secret for deletion with the recovery window, and counts a gone one as deleted', async () => {
    const service = `retired${randomUUID().slice(0, 8)}`;
    const issued = await invoke(
      zips.issueSvid!,
      environmentOf('IssueSvidLambdaFunction', { CA_ARN: await caArn() }),
      {
        runId: 'run-1',
        force: false,
        item: { action: 'issue', accountId: '111122223333', service, environment: 'prod', readerRoles: [] },
      },
      lambdaContext('issue-svid', ACCOUNT, REGION),
    );
    const { secretName } = (issued as { result: { secretName: string } }).result;
    const env = environmentOf('RetireSvidLambdaFunction');
    const retire = (name: string) =>
      invoke(
        zips.retireSvid!,
        env,
        {
          runId: 'run-1',
          item: {
            action: 'retire',
            secretName: name,
            accountId: '111122223333',
            service,
            environment: 'prod',
            spiffeId: `spiffe://example.org/prod/${service}`,
            reason: 'enrollment-removed',
          },
        },
        lambdaContext('retire-svid', ACCOUNT, REGION),
      );
    const retired = await retire(secretName);
    expect(retired).toMatchObject({ ok: true, result: { status: 'deleted', secretName } });
    const described = await secretsManager().send(new DescribeSecretCommand({ SecretId: secretName }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    expect(await retire(`${secretName}-never-made`)).toMatchObject({
      ok: true,
      result: { status: 'deleted' },
    });
  });
});

describe('receive-webhook', () => {
  const key = Buffer.from('ab'.repeat(32), 'hex');
  let env: Record<string, string>;
  const tableName = `deliveries-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const { ARN } = await secretsManager().send(
      new CreateSecretCommand({
        Name: `trust-bridge/webhook-key-${randomUUID()}`,
        SecretString: key.toString('hex'),
      }),
    );
    await new DynamoDBClient(motoClientConfig()).send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'deliveryId', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'deliveryId', KeyType: 'HASH' }],
      }),
    );
    env = environmentOf('ReceiveWebhookLambdaFunction', {
      WEBHOOK_KEY_SECRET_NAME: ARN as string,
      WEBHOOK_DELIVERY_TABLE: tableName,
    });
  });

  const deliver = (body: string, headers: Record<string, string>) =>
    invoke(
      zips.receiveWebhook!,
      env,
      {
        version: '2.0',
        rawPath: '/',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/' } },
      },
      lambdaContext('receive-webhook', ACCOUNT, REGION),
    );
  const claimed = async (deliveryId: string) =>
    (
      await new DynamoDBClient(motoClientConfig()).send(
        new GetItemCommand({ TableName: tableName, Key: { deliveryId: { S: deliveryId } } }),
      )
    ).Item !== undefined;

  it('accepts a delivery signed with the key in Secrets Manager, once', async () => {
    const body = JSON.stringify({ deliveryId: 'd-1', event: 'secret.updated', secret: 'Database_Password' });
    const accepted = await deliver(body, signedWebhookHeaders(key, body, new Date()));
    expect(accepted).toMatchObject({ ok: true, result: { statusCode: 202 } });
    expect(JSON.parse((accepted as { result: { body: string } }).result.body)).toEqual({
      deliveryId: 'd-1',
      status: 'accepted',
    });
    expect(await claimed('d-1')).toBe(true);
    const again = await deliver(body, signedWebhookHeaders(key, body, new Date()));
    expect(JSON.parse((again as { result: { body: string } }).result.body)).toMatchObject({
      status: 'duplicate',
    });
  });

  it('refuses a bad signature with 401 and records nothing', async () => {
    const body = JSON.stringify({ deliveryId: 'd-2', event: 'secret.updated', secret: 'Database_Password' });
    const refused = await deliver(
      body,
      signedWebhookHeaders(Buffer.from('cd'.repeat(32), 'hex'), body, new Date()),
    );
    expect(refused).toMatchObject({ ok: true, result: { statusCode: 401 } });
    expect(JSON.parse((refused as { result: { body: string } }).result.body)).toMatchObject({
      error: 'invalid-signature',
    });
    expect(await claimed('d-2')).toBe(false);
  });
});

describe('the sync agent', () => {
  // In its enrolled account (here moto's, which is also the central one): its SVID from the software CA, as
  // rotation stores it in SPIRE's format; Keywhiz's own CA in the account's secret; the dev server over mTLS.
  const service = `agent${randomUUID().slice(0, 8)}`;
  const spiffeId = `spiffe://example.org/prod/${service}`;
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-agent-'));
  let keywhiz: KeywhizDevServer;
  let env: Record<string, string>;
  const sync = () =>
    invoke(
      zips.syncAgent!,
      env,
      { runId: 'run-1', secret: null, target: { accountId: ACCOUNT, service, environment: 'prod' } },
      lambdaContext('trust-bridge-sync-agent', ACCOUNT, REGION),
    );

  beforeAll(async () => {
    const ca = await SoftwareCertificateAuthority.open(join(dir, 'ca'), 'example.org');
    mkdirSync(join(dir, 'keywhiz', service), { recursive: true });
    writeFileSync(join(dir, 'keywhiz', service, 'Database_Password'), 'hunter2');
    writeFileSync(join(dir, 'keywhiz', service, 'api.key'), 'an api key');
    keywhiz = await KeywhizDevServer.start({
      dir: join(dir, 'keywhiz'),
      ca,
      trustDomain: 'example.org',
      serviceOf: (id) => (id === spiffeId ? service : undefined),
    });
    const { csrPem, privateKeyPem } = await createSvidKeyAndCsr(spiffeId);
    const issued = await ca.issue({ csrPem, spiffeId, notBefore: new Date() });
    const svid = {
      spiffeID: spiffeId,
      x509SVID: [issued.certificatePem, ...issued.chainPem].join(''),
      x509SVIDKey: privateKeyPem,
      bundle: (await ca.bundle()).join(''),
    };
    const client = secretsManager();
    await client.send(
      new CreateSecretCommand({
        Name: `trust-bridge/svid/prod/${service}`,
        SecretBinary: Buffer.from(JSON.stringify(svid)),
      }),
    );
    const { ARN: keywhizCa } = await client.send(
      new CreateSecretCommand({
        Name: `trust-bridge/keywhiz-server-ca-${service}`,
        SecretString: keywhiz.caPem,
      }),
    );
    const onboarded = renderOnboarding(
      { central: ACCOUNT, account: ACCOUNT, region: REGION },
      { KeywhizUrl: keywhiz.url, KeywhizServerSpiffeId: keywhiz.spiffeId },
    );
    env = {
      ...motoEnvironment(),
      ...(onboarded.properties('SyncAgentFunction').Environment as { Variables: Record<string, string> })
        .Variables,
      // The secret the onboarding stack would create, here made in moto.
      KEYWHIZ_SERVER_CA_SECRET: keywhizCa as string,
    };
  });
  afterAll(async () => {
    await keywhiz?.close();
  });

  it('reads its SVID from Secrets Manager, lists Keywhiz over mTLS and writes the secrets, once', async () => {
    const first = await sync();
    expect(first).toMatchObject({ ok: true, result: { status: 'done', synced: 2, failed: 0 } });
    const client = secretsManager();
    const prefix = `trust-bridge/keywhiz/prod/${service}/`;
    const { SecretString } = await client.send(
      new GetSecretValueCommand({ SecretId: `${prefix}Database_Password` }),
    );
    expect(SecretString).toBe('hunter2');
    const listed = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100 }),
    );
    expect(listed.SecretList?.map((s) => s.Name).sort()).toEqual([
      `${prefix}Database_Password`,
      `${prefix}api.key`,
    ]);
    // No value in what the function logged.
    expect((first as { logs: string }).logs).not.toContain('hunter2');

    expect(await sync()).toMatchObject({ ok: true, result: { status: 'done', synced: 0, unchanged: 2 } });
    expect(keywhiz.requests.batch).toBe(1);
  });
});
