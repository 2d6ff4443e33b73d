/**
 * The webhook's HMAC signing keys: the current one first, then the previous one while a rotation settles.
 *
 * On AWS: `./secrets-manager-webhook-keys.ts`. At home: the same adapter over the Secrets Manager client's
 * stand-in, with a key the local stack makes on first use (`local-stack/stand-ins/local-webhook-key.ts`).
 */
export interface WebhookKeys {
  keys(): Promise<Uint8Array[]>;
}
