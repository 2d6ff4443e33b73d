import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { decodeSpireSvidSecret } from '../../functions/shared/domain/svid-secret';
import { enrollment, startLocalStack } from '../support/local-run';

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

  // The run did produce what is scanned: payloads of every step, log lines, audit events.
  expect(payloads.some((p) => p.startsWith('Issue SVID output'))).toBe(true);
  expect(payloads.some((p) => p.startsWith('Record Account Failure output'))).toBe(true);
  expect(payloads.some((p) => p.startsWith('Retire SVID output'))).toBe(true);
  expect(written.join('').length).toBeGreaterThan(0);
  expect(auditLog.split('\n').length).toBeGreaterThan(3);

  for (const text of [...payloads, ...written, auditLog, records]) {
    expect(text).not.toMatch(/-----BEGIN|PRIVATE KEY/);
    for (const key of keys) {
      const body = key.replace(/-----[A-Z ]+-----|\s/g, '');
      expect(text).not.toContain(body.slice(40, 80));
    }
  }
});
