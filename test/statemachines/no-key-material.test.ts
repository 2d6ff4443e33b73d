import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { decodeSpireSvidSecret } from '../../client/spiffe/spire-secret';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../functions/shared/domain/webhook';
import { enrollment, startLocalStack } from '../support/local-run';
import { LEDGER, PAYMENTS, startSyncStack } from '../support/sync-run';

const written: string[] = [];
const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
beforeEach(() => {
  for (const stream of ['stdout', 'stderr'] as const) {
    const original = originals[stream].bind(process[stream]);
    process[stream].write = ((chunk: unknown, ...rest: never[]) => {
      written.push(String(chunk));
      return original(chunk as string, ...rest);
    }) as typeof process.stdout.write;
  }
});
afterEach(() => {
  process.stdout.write = originals.stdout;
  process.stderr.write = originals.stderr;
});

test('no private key reaches a state payload, an audit event or a log line, on success, failure and retirement', async () => {
  const payloads: string[] = [];
  const { stack, dataDir, writeEnrollments } = await startLocalStack(
    [
      enrollment('111111111111', 'payments'),
      enrollment('222222222222', 'ledger'),
      enrollment('333333333333', 'search'),
    ],
    {
      logLevel: 'DEBUG',
      onStatePayload: (state, kind, payload) => payloads.push(`${state} ${kind} ${JSON.stringify(payload)}`),
    },
  );
  await stack.services.secretsManager.send(
    new CreateSecretCommand({ Name: 'trust-bridge/svid/prod/search', SecretString: 'not ours' }),
  );
  const keys: string[] = [];
  const readKey = async (name: string) => {
    const stored = await stack.services.secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    keys.push(decodeSpireSvidSecret(stored.SecretBinary as Uint8Array).x509SVIDKey);
  };
  const first = await stack.rotate();
  expect(first.status).toBe('FAILED');
  await readKey('trust-bridge/svid/prod/ledger');
  writeEnrollments([enrollment('111111111111', 'payments')]);
  const second = await stack.rotate({ force: true });
  expect(second.status).toBe('SUCCEEDED');
  await readKey('trust-bridge/svid/prod/payments');

  const auditLog = readFileSync(join(dataDir, 'eventbridge', `${stack.config.AUDIT_BUS_NAME}.jsonl`), 'utf8');
  const records = JSON.stringify(stack.engine.listExecutions());
  // The run files: each run's plan and its Map Run's results (every chunk's input and output).
  const runFiles = readdirSync(join(dataDir, 's3'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));

  // The run did produce what is scanned: payloads of every step, log lines, audit events, run files.
  expect(runFiles.some((text) => text.includes('failedAccounts'))).toBe(true);
  expect(payloads.some((p) => p.startsWith('Issue SVID output'))).toBe(true);
  expect(payloads.some((p) => p.startsWith('Record Account Failure output'))).toBe(true);
  expect(payloads.some((p) => p.startsWith('Retire SVID output'))).toBe(true);
  expect(written.join('').length).toBeGreaterThan(0);
  expect(auditLog.split('\n').length).toBeGreaterThan(3);

  for (const text of [...payloads, ...written, auditLog, records, ...runFiles]) {
    expect(text).not.toMatch(/-----BEGIN|PRIVATE KEY/);
    for (const key of keys) {
      const body = key.replace(/-----[A-Z ]+-----|\s/g, '');
      expect(text).not.toContain(body.slice(40, 80));
    }
  }
});

test('no secret value and no private key reaches a state payload, a log line or an audit event of a sync', async () => {
  const payloads: string[] = [];
  // Distinctive values, so a leak in any form (raw, base64 as Keywhiz sends it, hex) is found.
  const text = 'CANARY-text-7c1f2e9a5b3d-payments-secret-value';
  const changed = 'CANARY-changed-0e8d4c2b1a9f-payments-secret-value';
  const older = 'CANARY-older-5a6b7c8d9e0f-payments-secret-value';
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('CANARY-binary-3e4f5a6b7c8d')]);
  const big = Buffer.from('CANARY-big-1f2e3d4c5b6a-'.repeat(2800));
  const s = await startSyncStack({
    logLevel: 'DEBUG',
    onStatePayload: (state, kind, payload) => payloads.push(`${state} ${kind} ${JSON.stringify(payload)}`),
    prepare: (dir) => {
      writeFileSync(join(dir, 'payments', 'canary-text'), text);
      writeFileSync(join(dir, 'ledger', 'canary-binary'), binary);
      writeFileSync(join(dir, 'payments', 'canary-big'), big);
    },
  });
  try {
    const values = [text, changed, older, binary, big, ...sampleContents(s.keywhizDir)];
    const keys: string[] = [];
    for (const service of ['payments', 'ledger']) {
      keys.push((await s.stack.deps.svids.read(`trust-bridge/svid/prod/${service}`)).x509SVIDKey);
    }

    const first = await s.stack.sync(); // synced, and canary-big failed as too large
    expect(first.status).toBe('FAILED');
    s.writeSecret(PAYMENTS, 'canary-text', changed);
    s.writeSecret(LEDGER, 'canary-binary', Buffer.concat([binary, binary]));
    s.removeSecret(PAYMENTS, 'canary-big');
    const synced = await s.stack.sync(); // changed values written
    expect(synced.output).toMatchObject({ synced: 2 });
    const path = s.pathOf(PAYMENTS, 'stripe-api-key');
    const stored = statSync(path).mtime;
    s.writeSecret(PAYMENTS, 'stripe-api-key', older);
    utimesSync(path, new Date(stored.getTime() - 3600_000), new Date(stored.getTime() - 3600_000));
    const refused = await s.stack.sync(); // older content refused
    expect(refused.output).toMatchObject({ refused: 1 });

    // A webhook delivery starts a targeted sync.
    s.writeSecret(PAYMENTS, 'canary-text', text);
    const [key] = await s.stack.deps.webhookKeys.keys();
    const body = JSON.stringify({ deliveryId: 'canary-1', event: 'secret.updated', secret: 'canary-text' });
    const timestamp = Math.floor(Date.now() / 1000);
    const accepted = await s.stack.webhookHandler(
      {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/',
        rawQueryString: '',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(key as Uint8Array, timestamp, body),
        },
        requestContext: { http: { method: 'POST' } },
        body,
        isBase64Encoded: false,
      } as never,
      {} as never,
    );
    expect(accepted.statusCode).toBe(202);
    const [webhookRun] = await s.stack.settled();
    expect(webhookRun?.output).toMatchObject({ synced: 1 });

    await s.stopKeywhiz();
    const down = await s.stack.sync(); // every agent fails
    expect(down.error).toBe('AccountsFailed');

    const auditLog = readFileSync(
      join(s.dataDir, 'eventbridge', `${s.stack.config.AUDIT_BUS_NAME}.jsonl`),
      'utf8',
    );
    const records = JSON.stringify(s.stack.engine.listExecutions());
    expect(payloads.some((p) => p.startsWith('Sync Agent output'))).toBe(true);
    expect(written.join('')).toContain('secrets synced');
    expect(auditLog).toContain('Secret Sync Failed');

    const forms = values.flatMap((value) => {
      const bytes = Buffer.from(value);
      const base64 = bytes.toString('base64');
      return [
        ...(bytes.every((b) => b >= 0x20 && b < 0x7f) ? [bytes.toString('latin1')] : []),
        base64.slice(4, -4),
        bytes.toString('hex'),
      ].map((form) => form.slice(0, 200));
    });
    expect(forms.length).toBeGreaterThan(values.length);
    for (const text of [...payloads, ...written, auditLog, records]) {
      expect(text).not.toMatch(/-----BEGIN|PRIVATE KEY/);
      for (const key of keys) {
        const body = key.replace(/-----[A-Z ]+-----|\s/g, '');
        expect(text).not.toContain(body.slice(40, 80));
      }
      for (const form of forms) expect(text).not.toContain(form);
    }
  } finally {
    await s.close();
  }
});

/** The content of every sample secret of at least 12 bytes (shorter ones could match by chance). */
function sampleContents(keywhizDir: string): Buffer[] {
  return ['payments', 'ledger'].flatMap((service) =>
    readdirSync(join(keywhizDir, service))
      .filter((name) => !name.endsWith('.metadata.json'))
      .map((name) => readFileSync(join(keywhizDir, service, name)))
      .filter((content) => content.length >= 12),
  );
}
