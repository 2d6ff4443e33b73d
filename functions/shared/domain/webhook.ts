import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from './zod';
import { enrollmentSchema } from './enrollment';
import { InvalidConfiguration, TrustBridgeError } from './errors';
import { KEYWHIZ_NAME_MAX } from './keywhiz';

/** Unix seconds when the sender signed the delivery. */
export const TIMESTAMP_HEADER = 'X-Trust-Bridge-Timestamp';
/** `v1=<hex HMAC-SHA256 over "<timestamp>.<raw body>">`. */
export const SIGNATURE_HEADER = 'X-Trust-Bridge-Signature';
export const WEBHOOK_MAX_BODY_BYTES = 65_536;
/** A delivery signed more than this long ago, or this far ahead, is refused (replays, skewed clocks). */
export const WEBHOOK_MAX_SKEW_SECONDS = 300;
/** A signing key is at least this many bytes (an HMAC-SHA256 key shorter than the hash weakens it). */
export const WEBHOOK_KEY_MIN_BYTES = 32;

/** The EventBridge source and detail-type of an accepted delivery; the sync rule matches on them. */
export const SECRET_CHANGE_SOURCE = 'trust-bridge.webhook';
export const SECRET_CHANGED_DETAIL_TYPE = 'Keywhiz Secret Changed';

export const SECRET_CHANGE_EVENTS = ['secret.created', 'secret.updated', 'secret.deleted'] as const;

const SIGNATURE_VERSION = 'v1';
const SIGNATURE_FORMAT = /^v1=([0-9a-fA-F]{64})$/;

const hmac = (key: Uint8Array, timestamp: number, rawBody: string | Buffer): Buffer =>
  createHmac('sha256', key).update(`${timestamp}.`).update(rawBody).digest();

/** The signature header's value for a delivery: what a sender puts in X-Trust-Bridge-Signature. */
export function signWebhook(key: Uint8Array, timestamp: number, rawBody: string | Buffer): string {
  return `${SIGNATURE_VERSION}=${hmac(key, timestamp, rawBody).toString('hex')}`;
}

/** The headers of one signed delivery of `rawBody`, as a sender (Keywhiz's hook, `trust-bridge notify`) sends it. */
export function signedWebhookHeaders(key: Uint8Array, rawBody: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signWebhook(key, timestamp, rawBody),
  };
}

/**
 * Whether `header` signs (timestamp, raw body) with any of `keys` (the current key and, during a rotation,
 * the previous one). Compared in constant time; a header that is not `v1=<64 hex digits>` is simply false.
 */
export function verifyWebhookSignature(
  keys: Uint8Array[],
  timestamp: number,
  rawBody: string | Buffer,
  header: string,
): boolean {
  const given = SIGNATURE_FORMAT.exec(header)?.[1];
  if (given === undefined) return false;
  const signature = Buffer.from(given, 'hex');
  // Every key is tried, so the time taken does not say which one matched.
  return keys.reduce(
    (matched, key) => timingSafeEqual(hmac(key, timestamp, rawBody), signature) || matched,
    false,
  );
}

/**
 * A signing key as it is stored (Secrets Manager, TRUST_BRIDGE_WEBHOOK_KEY): hex digits, at least 32 bytes.
 * Hex rather than base64 because Node's base64 decoder skips invalid characters silently, and a key
 * mangled in copying would then verify nothing without saying why. The message never repeats the value.
 */
export function parseWebhookKey(text: string, source: string): Uint8Array {
  const hex = text.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex) || hex.length < WEBHOOK_KEY_MIN_BYTES * 2) {
    throw new InvalidConfiguration(
      `${source}: a webhook signing key must be at least ${WEBHOOK_KEY_MIN_BYTES * 2} hex digits (${WEBHOOK_KEY_MIN_BYTES} bytes)`,
    );
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** A fresh random key in the stored form. */
export const newWebhookKey = (): string => randomBytes(WEBHOOK_KEY_MIN_BYTES).toString('hex');

/** Putting an accepted change on the bus failed; the receiver releases the delivery so the sender's retry counts. */
export class SecretChangeNotAnnounced extends TrustBridgeError {}

const keywhizNameSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(KEYWHIZ_NAME_MAX, `must be at most ${KEYWHIZ_NAME_MAX} characters`),
  // eslint-disable-next-line no-control-regex
  z.regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters'),
);

export const secretChangeSchema = z.strictObject({
  deliveryId: z
    .string()
    .check(
      z.minLength(1, 'must not be empty'),
      z.maxLength(128, 'must be at most 128 characters'),
      z.regex(/^[A-Za-z0-9._:-]+$/, 'may hold only letters, digits, ".", "_", ":" and "-"'),
    ),
  event: z.enum(SECRET_CHANGE_EVENTS, {
    error: `must be one of ${SECRET_CHANGE_EVENTS.map((e) => `"${e}"`).join(', ')}`,
  }),
  secret: keywhizNameSchema,
  services: z.optional(
    z
      .array(enrollmentSchema.shape.service)
      .check(z.minLength(1, 'must list at least one service when given')),
  ),
});

/** One accepted webhook delivery: which Keywhiz secret changed how, and optionally which services own it. */
export type SecretChange = z.infer<typeof secretChangeSchema>;

export type SecretChangeParse = { ok: true; change: SecretChange } | { ok: false; message: string };

/** Validates a parsed delivery body; on failure, one message naming every broken field. */
export function parseSecretChange(raw: unknown): SecretChangeParse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      message: 'the body must be a JSON object with deliveryId, event, secret and services',
    };
  }
  const parsed = secretChangeSchema.safeParse(raw);
  if (parsed.success) return { ok: true, change: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .slice(1);
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `unknown field "${k}"`).join(', ');
    if (issue.code === 'invalid_type' && issue.path.length === 1 && !(String(issue.path[0]) in raw)) {
      return `${field} is required`;
    }
    if (issue.code === 'invalid_type')
      return `${field} must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    return `${field} ${issue.message}`;
  });
  return { ok: false, message: `invalid delivery: ${problems.join('; ')}` };
}
