/** The webhook's HMAC signing keys: the current one first, then the previous one while a rotation settles. */
export interface WebhookKeys {
  keys(): Promise<Uint8Array[]>;
}
