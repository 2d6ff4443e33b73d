import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerWebhookKeys } from '../../../../../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import { localConfig } from '../../../../../local-stack/local-config';
import { LocalSecretsManager } from '../../../../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import {
  ensureLocalWebhookKey,
  readLocalWebhookKey,
} from '../../../../../local-stack/stand-ins/local-webhook-key';

// aws-sdk-client-mock is typed against the older @smithy/types that client-acm-pca hoists; at run time the
// stub is the same, so the client and command classes are cast for the type checker only.
const secretsManager = mockClient(SecretsManagerClient as never);
const GetSecretValue = GetSecretValueCommand as never;

const hexKey = (byte: number) => Buffer.alloc(32, byte).toString('hex');

let dir: string;
beforeEach(() => {
  secretsManager.reset();
  dir = mkdtempSync(join(tmpdir(), 'trust-bridge-webhook-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretsManagerWebhookKeys', () => {
  let clock: number;
  const keys = () =>
    new SecretsManagerWebhookKeys(new SecretsManagerClient({ region: 'us-east-1' }), {
      secretName: 'trust-bridge/webhook-signing-key',
      now: () => clock,
    });
  const stage = (call: number) =>
    (secretsManager.commandCalls(GetSecretValue)[call]?.args[0].input as { VersionStage?: string })
      .VersionStage;

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('reads AWSCURRENT first and AWSPREVIOUS after it', async () => {
    secretsManager
      .on(GetSecretValue, { VersionStage: 'AWSCURRENT' } as never)
      .resolves({ SecretString: hexKey(1) } as never)
      .on(GetSecretValue, { VersionStage: 'AWSPREVIOUS' } as never)
      .resolves({ SecretString: `${hexKey(2)}\n` } as never);
    expect(await keys().keys()).toEqual([new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]);
    expect([stage(0), stage(1)].sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('holds only the current key when the secret was never rotated', async () => {
    secretsManager
      .on(GetSecretValue, { VersionStage: 'AWSCURRENT' } as never)
      .resolves({ SecretString: hexKey(1) } as never)
      .on(GetSecretValue, { VersionStage: 'AWSPREVIOUS' } as never)
      .rejects(new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} }) as never);
    expect(await keys().keys()).toEqual([new Uint8Array(32).fill(1)]);
  });

  it('reuses the keys for 5 minutes, then reads again', async () => {
    secretsManager.on(GetSecretValue).resolves({ SecretString: hexKey(1) } as never);
    const source = keys();
    await source.keys();
    clock += 299_999;
    await source.keys();
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(2);
    clock += 1;
    await source.keys();
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(4);
  });

  it('does not keep a failed read', async () => {
    secretsManager
      .on(GetSecretValue)
      .rejectsOnce(new Error('throttled') as never)
      .resolves({ SecretString: hexKey(1) } as never);
    const source = keys();
    await expect(source.keys()).rejects.toThrow('throttled');
    expect(await source.keys()).toEqual([new Uint8Array(32).fill(1), new Uint8Array(32).fill(1)]);
    expect(secretsManager.commandCalls(GetSecretValue)).toHaveLength(4);
  });

  it('refuses a value that is not a hex key, without repeating it', async () => {
    secretsManager.on(GetSecretValue).resolves({ SecretString: 'correct horse battery staple' } as never);
    const failure = keys().keys();
    await expect(failure).rejects.toThrow(
      /trust-bridge\/webhook-signing-key \(AWSCURRENT\): a webhook signing key must be/,
    );
    await expect(failure).rejects.not.toThrow(/horse/);
  });
});

describe('local webhook key', () => {
  const config = localConfig({});

  it('is created once as 32 random bytes of hex, and kept afterwards', async () => {
    const store = new LocalSecretsManager({ dataDir: dir, accountId: config.CENTRAL_ACCOUNT_ID });
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    const first = await readLocalWebhookKey(dir, config);
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    expect(first).toHaveLength(32);
    expect(await readLocalWebhookKey(dir, config)).toEqual(first);
  });

  it('is read by notify as the current version after a rotation', async () => {
    const store = new LocalSecretsManager({ dataDir: dir, accountId: config.CENTRAL_ACCOUNT_ID });
    await ensureLocalWebhookKey(store, config.WEBHOOK_KEY_SECRET_NAME);
    await store.send(
      new PutSecretValueCommand({ SecretId: config.WEBHOOK_KEY_SECRET_NAME, SecretString: hexKey(5) }),
    );
    expect(await readLocalWebhookKey(dir, config)).toEqual(new Uint8Array(32).fill(5));
    const both = await new SecretsManagerWebhookKeys(store, {
      secretName: config.WEBHOOK_KEY_SECRET_NAME,
    }).keys();
    expect(both).toHaveLength(2);
  });
});
