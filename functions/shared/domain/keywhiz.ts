/** Keywhiz's names are at most this long. */
export const KEYWHIZ_NAME_MAX = 195;

/** One secret as Keywhiz lists it (`GET /secrets`): metadata only, never content. */
export interface KeywhizSecretInfo {
  name: string;
  /** Keywhiz's opaque HMAC of the content: a change token, not recomputable. Absent on old servers. */
  checksum?: string;
  /** ISO-8601 UTC, as Keywhiz sends it. */
  creationDate?: string;
  /** ISO-8601 UTC: when the content last changed. */
  updateDate?: string;
  /** Bytes of the decoded content, when the server says. */
  secretLength?: number;
  /** Keywhiz flattens a secret's metadata (mode, owner, group…) into the top level; strings only. */
  metadata: Record<string, string>;
}

/** One secret with its content (`GET /secret/{name}`, `POST /batchsecret`). Lives inside one invocation. */
export interface KeywhizSecret extends KeywhizSecretInfo {
  /** The decoded content. Never logged, never put in a payload or an event. */
  content: Uint8Array;
}
