/** A Keywhiz secret as synced into an account's Secrets Manager, known from its name and tags only. */
export interface SyncedSecret {
  /** The Secrets Manager name (see domain/synced-secret-name.ts). */
  secretName: string;
  arn: string;
  keywhizName: string;
  /** The Keywhiz checksum of the content last written. */
  checksum: string;
  /** The Keywhiz updateDate of the content last written, when Keywhiz gave one. */
  updateDate?: string;
  /** Set when the secret is scheduled for deletion (it can still be restored). */
  deletedAt?: string;
  /**
   * The tags describe the current version. False after a write cut off between its calls (or a concurrent one):
   * then the checksum proves nothing, and the content is written again.
   */
  complete: boolean;
  /** The version AWSCURRENT was on when listed: a write moves the label from it, or from nowhere else. */
  currentVersionId?: string;
}

export interface SecretWrite {
  secretName: string;
  keywhizName: string;
  service: string;
  environment: string;
  checksum: string;
  updateDate?: string;
  /** UTF-8 content is written as SecretString, anything else as SecretBinary. At most 65,536 bytes. */
  content: Uint8Array;
  /** What the store already holds under this name (from listSynced), so the write needs no extra read. */
  existing?: SyncedSecret;
}

/**
 * The Secrets Manager of one enrolled account: only secrets under the sync prefix that carry our marker.
 *
 * On AWS: `./secrets-manager-secret-store.ts`. At home: the same adapter over the Secrets Manager client's stand-in,
 * `local-stack/stand-ins/secrets-manager/`, one per account.
 */
export interface SecretStore {
  /** Every synced secret under `prefix`, scheduled deletions included: about one call per 100 secrets. */
  listSynced(prefix: string): Promise<SyncedSecret[]>;
  /**
   * Writes the content as a new version whose ClientRequestToken derives from (keywhizName, checksum), so a
   * retry or replay makes no second version, then records checksum and updateDate in tags. Creates the secret
   * (encrypted with the account's key, tagged with our marker) when absent; restores one scheduled for
   * deletion first. The new version becomes current only where `existing` saw the current one (a compare-and-swap
   * of AWSCURRENT): SecretWriteRaced when another write moved it meanwhile, which may hold newer content. Throws
   * SecretNotOwned, writing nothing, when a secret of that name lacks our marker; SecretTooLarge over 65,536 bytes;
   * StoreThrottled when throttled.
   */
  write(write: SecretWrite): Promise<{ arn: string; versionId: string; created: boolean; restored: boolean }>;
  /** Cancels a scheduled deletion (the secret reappeared in Keywhiz with the same content). */
  restore(secret: SyncedSecret): Promise<void>;
  /** Schedules deletion with a recovery window. Throws SecretNotOwned for a secret without our marker. */
  remove(secret: SyncedSecret, recoveryWindowDays: number): Promise<{ deletionDate: string }>;
}

/** The store of one account: on AWS the agent's own account; locally a directory per account. */
export type SecretStoreFactory = (accountId: string) => SecretStore;
