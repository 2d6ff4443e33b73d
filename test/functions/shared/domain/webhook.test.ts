import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  parseSecretChange,
  parseWebhookKey,
  signWebhook,
  verifyWebhookSignature,
} from '../../../../functions/shared/domain/webhook';

const key = new Uint8Array(32).fill(7);
const previousKey = new Uint8Array(32).fill(9);
const otherKey = new Uint8Array(32).fill(1);
const body = '{"deliveryId":"d-1","event":"secret.updated","secret":"db-password"}';
const timestamp = 1_740_823_200;

describe('webhook signature', () => {
  it('is v1= and the hex HMAC-SHA256 of "<timestamp>.<raw body>"', () => {
    // Computed independently: printf '1740823200.{...}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707…07
    const signature = signWebhook(key, timestamp, body);
    expect(signature).toBe('v1=4704220fe39bfa9a8d0666fef3868f8daf161b9a07b228e6e116b0f68b953380');
    expect(signWebhook(key, timestamp, Buffer.from(body))).toBe(signature);
  });

  it('verifies the signed body and timestamp', () => {
    expect(verifyWebhookSignature([key], timestamp, body, signWebhook(key, timestamp, body))).toBe(true);
  });

  it('accepts upper-case hex digits', () => {
    const signature = signWebhook(key, timestamp, body);
    expect(verifyWebhookSignature([key], timestamp, body, `v1=${signature.slice(3).toUpperCase()}`)).toBe(
      true,
    );
  });

  it('refuses a tampered body', () => {
    const signature = signWebhook(key, timestamp, body);
    expect(verifyWebhookSignature([key], timestamp, body.replace('updated', 'deleted'), signature)).toBe(
      false,
    );
  });

  it('refuses a signature made with another key', () => {
    expect(verifyWebhookSignature([key], timestamp, body, signWebhook(otherKey, timestamp, body))).toBe(
      false,
    );
  });

  it('accepts the previous key during a rotation, and the current one', () => {
    const keys = [key, previousKey];
    expect(verifyWebhookSignature(keys, timestamp, body, signWebhook(previousKey, timestamp, body))).toBe(
      true,
    );
    expect(verifyWebhookSignature(keys, timestamp, body, signWebhook(key, timestamp, body))).toBe(true);
    expect(verifyWebhookSignature(keys, timestamp, body, signWebhook(otherKey, timestamp, body))).toBe(false);
  });

  it('refuses every key when there is none', () => {
    expect(verifyWebhookSignature([], timestamp, body, signWebhook(key, timestamp, body))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no version', signWebhook(key, timestamp, body).slice(3)],
    ['another version', `v2=${signWebhook(key, timestamp, body).slice(3)}`],
    ['short', signWebhook(key, timestamp, body).slice(0, 40)],
    ['long', `${signWebhook(key, timestamp, body)}00`],
    ['not hex', `v1=${'zz'.repeat(32)}`],
    ['two signatures', `${signWebhook(key, timestamp, body)},${signWebhook(key, timestamp, body)}`],
  ])('treats a malformed header (%s) as not signed, without throwing', (_, header) => {
    expect(verifyWebhookSignature([key], timestamp, body, header)).toBe(false);
  });

  it('breaks on any change to the body or the timestamp', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 256 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (bytes, ts, at, flip, shift) => {
          const raw = Buffer.from(bytes);
          const signature = signWebhook(key, ts, raw);
          if (!verifyWebhookSignature([key], ts, raw, signature)) return false;
          if (verifyWebhookSignature([key], ts + shift, raw, signature)) return false;
          if (verifyWebhookSignature([key], ts, Buffer.concat([raw, Buffer.from([flip])]), signature))
            return false;
          if (raw.length === 0) return true;
          const changed = Buffer.from(raw);
          const index = at % raw.length;
          changed[index] = (changed[index] ?? 0) ^ flip;
          return !verifyWebhookSignature([key], ts, changed, signature);
        },
      ),
    );
  });
});

describe('webhook key', () => {
  it('is hex of at least 32 bytes', () => {
    expect(parseWebhookKey(`${'ab'.repeat(32)}\n`, 'test')).toEqual(new Uint8Array(32).fill(0xab));
  });

  it.each([
    ['too short', 'ab'.repeat(31)],
    ['odd digits', `${'ab'.repeat(32)}a`],
    ['base64', Buffer.alloc(32, 1).toString('base64')],
    ['empty', ''],
  ])('refuses a key that is %s, without repeating it', (_, text) => {
    expect(() => parseWebhookKey(text, 'the-key-secret')).toThrow(
      /the-key-secret: a webhook signing key must be at least 64 hex digits/,
    );
    try {
      parseWebhookKey(text, 'the-key-secret');
    } catch (error) {
      if (text) expect((error as Error).message).not.toContain(text);
    }
  });
});

describe('delivery schema', () => {
  const good = {
    deliveryId: 'kw:42',
    event: 'secret.created',
    secret: 'db-password',
    services: ['payments'],
  };

  it('accepts a delivery with and without services', () => {
    expect(parseSecretChange(good)).toEqual({ ok: true, change: good });
    const { services: _omitted, ...noServices } = good;
    expect(parseSecretChange(noServices)).toEqual({ ok: true, change: noServices });
  });

  it('names every problem in one message', () => {
    const result = parseSecretChange({
      deliveryId: 'has space',
      event: 'secret.rotated',
      services: [],
      extra: 1,
    });
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.message;
    expect(message).toContain('deliveryId may hold only letters, digits');
    expect(message).toContain('event must be one of "secret.created", "secret.updated", "secret.deleted"');
    expect(message).toContain('secret is required');
    expect(message).toContain('services must list at least one service');
    expect(message).toContain('unknown field "extra"');
  });

  it.each([
    ['a too long secret name', { ...good, secret: 'x'.repeat(196) }, 'secret must be at most 195 characters'],
    ['a control character', { ...good, secret: 'a\nb' }, 'secret must not contain control characters'],
    ['a bad service name', { ...good, services: ['ok', '../etc'] }, 'services[1] may hold only'],
    ['a number for a name', { ...good, secret: 5 }, 'secret must be a string'],
    ['a 129-character id', { ...good, deliveryId: 'a'.repeat(129) }, 'deliveryId must be at most 128'],
  ])('refuses %s', (_, raw, problem) => {
    const result = parseSecretChange(raw);
    expect(result.ok ? '' : result.message).toContain(problem);
  });

  it.each([null, [], 'text', 3])('refuses a body that is not an object (%p)', (raw) => {
    expect(parseSecretChange(raw)).toEqual({ ok: false, message: expect.stringContaining('a JSON object') });
  });
});
