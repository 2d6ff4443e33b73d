import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { main } from '../../cli/main';
import { notifyCommand } from '../../cli/notify';
import { createHandler } from '../../functions/receive-webhook/receive-webhook';
import { EventBridgeSecretChanges } from '../../functions/shared/ports/secret-changes/eventbridge-secret-changes';
import { SecretsManagerWebhookKeys } from '../../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import { localConfig } from '../../local-stack/local-config';
import { signWebhook } from '../../functions/shared/domain/webhook';
import { FileDeliveryLog } from '../../local-stack/stand-ins/file-delivery-log';
import { LocalEventBus, readAuditLog } from '../../local-stack/stand-ins/local-event-bus';
import {
  ensureLocalWebhookKey,
  localCentralSecretsManager,
  readLocalWebhookKey,
} from '../../local-stack/stand-ins/local-webhook-key';
import { startWebhookServer, type WebhookServer } from '../../local-stack/webhook-server';

const config = localConfig({});
let dir: string;
let server: WebhookServer;
let printed: string[];

/** The receiver as the local stack runs it: the same handler over the local stand-ins, behind node:http. */
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-notify-'));
  const secretsManager = localCentralSecretsManager(dir, config);
  await ensureLocalWebhookKey(secretsManager, config.WEBHOOK_KEY_SECRET_NAME);
  const handler = createHandler({
    logger: new Logger({ serviceName: 'receive-webhook', logLevel: 'SILENT' }),
    webhookKeys: new SecretsManagerWebhookKeys(secretsManager, {
      secretName: config.WEBHOOK_KEY_SECRET_NAME,
    }),
    deliveries: new FileDeliveryLog(dir),
    secretChanges: new EventBridgeSecretChanges(new LocalEventBus(dir), { busName: config.AUDIT_BUS_NAME }),
    now: () => new Date(),
  });
  server = await startWebhookServer({ handler, port: 0 });
  printed = [];
  jest.spyOn(console, 'error').mockImplementation((line: unknown) => {
    printed.push(String(line));
  });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const notify = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  notifyCommand([...args, '--url', server.url, '--data-dir', dir], {
    env,
    print: (line) => printed.push(line),
  });
const announced = () => readAuditLog(dir, config.AUDIT_BUS_NAME);

describe('trust-bridge notify → local webhook server → receiver', () => {
  it('signs with the local key, is accepted, and puts one change on the bus', async () => {
    const code = await notify(['--secret', 'db-password', '--service', 'payments', '--delivery-id', 'kw-1']);
    expect(code).toBe(0);
    expect(printed[0]).toBe('202 Accepted');
    expect(JSON.parse(printed[1] ?? '')).toEqual({ deliveryId: 'kw-1', status: 'accepted' });
    const events = await announced();
    expect(events.map((e) => [e['detail-type'], e.detail])).toEqual([
      [
        'Keywhiz Secret Changed',
        { deliveryId: 'kw-1', event: 'secret.updated', secret: 'db-password', services: ['payments'] },
      ],
    ]);
  });

  it('answers a resent delivery id as a duplicate and announces nothing more', async () => {
    expect(
      await notify(['--secret', 'db-password', '--delivery-id', 'kw-2', '--event', 'secret.deleted']),
    ).toBe(0);
    expect(
      await notify(['--secret', 'db-password', '--delivery-id', 'kw-2', '--event', 'secret.deleted']),
    ).toBe(0);
    expect(JSON.parse(printed[3] ?? '')).toEqual({ deliveryId: 'kw-2', status: 'duplicate' });
    expect(await announced()).toHaveLength(1);
  });

  it('gives each delivery a fresh id by default', async () => {
    await notify(['--secret', 'a']);
    await notify(['--secret', 'a']);
    const ids = (await announced()).map((e) => (e.detail as { deliveryId: string }).deliveryId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('signs with TRUST_BRIDGE_WEBHOOK_KEY when set: the right key is accepted, another is refused (exit 1)', async () => {
    const localKey = Buffer.from(await readLocalWebhookKey(dir, config)).toString('hex');
    expect(await notify(['--secret', 'a'], { TRUST_BRIDGE_WEBHOOK_KEY: localKey })).toBe(0);
    printed = [];
    expect(await notify(['--secret', 'a'], { TRUST_BRIDGE_WEBHOOK_KEY: 'ab'.repeat(32) })).toBe(1);
    expect(printed[0]).toBe('401 Unauthorized');
    expect(JSON.parse(printed[1] ?? '')).toMatchObject({ error: 'invalid-signature' });
    expect(await announced()).toHaveLength(1);
  });

  // --aws, against the deployed stack's outputs: test/cli/notify.aws.test.ts.
  it('refuses AWS-only flags without --aws (exit 2)', async () => {
    expect(await notifyCommand(['--secret', 'a', '--region', 'eu-west-1'], { env: {} })).toBe(2);
    expect(await announced()).toHaveLength(0);
  });

  it('refuses a bad delivery before sending anything (exit 2)', async () => {
    expect(await notify(['--secret', 'a', '--event', 'secret.rotated'])).toBe(2);
    expect(await notify(['--secret', 'a', '--service', 'not/a/service'])).toBe(2);
    expect(await notify([])).toBe(2);
    expect(printed.join('\n')).toContain('event must be one of');
    expect(printed.join('\n')).toContain('services[0] may hold only');
    expect(printed.join('\n')).toContain('--secret is required');
    expect(await announced()).toEqual([]);
  });

  it('says plainly when the receiver cannot be reached (exit 1)', async () => {
    const gone = await startWebhookServer({ handler: async () => ({ statusCode: 202 }), port: 0 });
    await gone.close();
    const code = await notifyCommand(['--secret', 'a', '--url', gone.url, '--data-dir', dir], {
      env: {},
      print: (line) => printed.push(line),
    });
    expect(code).toBe(1);
    expect(printed.join('\n')).toContain(`could not reach the webhook receiver at ${gone.url}: ECONNREFUSED`);
  });

  it('is a trust-bridge command', async () => {
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed.push(String(line));
    });
    const code = await main(['notify', '--secret', 'db-password', '--url', server.url, '--data-dir', dir]);
    expect(code).toBe(0);
    expect(printed[0]).toBe('202 Accepted');
    expect(await main(['help'])).toBe(0);
    expect(printed.join('\n')).toContain('trust-bridge notify --secret NAME');
  });
});

describe('local webhook server', () => {
  it('hands the handler the raw bytes and lower-cased headers, and writes its answer back', async () => {
    const key = await readLocalWebhookKey(dir, config);
    // Spacing and key order a re-encoding would lose: the signature covers these exact bytes.
    const body = '{ "secret" : "db-password",\n  "event":"secret.created", "deliveryId":"kw-raw" }';
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Trust-Bridge-Timestamp': String(timestamp),
        'X-Trust-Bridge-Signature': signWebhook(key, timestamp, body),
      },
      body,
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ deliveryId: 'kw-raw', status: 'accepted' });
  });

  it('passes refusals through with their status, headers and JSON error', async () => {
    const get = await fetch(server.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const text = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: 'unsupported-content-type' });
    expect(await announced()).toEqual([]);
  });
});
