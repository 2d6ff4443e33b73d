/** The JSON a SPIRE aws_secretsmanager SVID store writes; functions read ours unchanged. */
export interface SpireSvidSecret {
  spiffeID: string;
  /** PEM chain, leaf first. */
  x509SVID: string;
  /** PKCS#8 PEM private key. */
  x509SVIDKey: string;
  /** PEM trust bundle of our trust domain. */
  bundle: string;
  /** Trust domain → PEM bundle. */
  federatedBundles: Record<string, string>;
}

/** What the store knows about an SVID without reading its value (from tags). */
export interface StoredSvid {
  secretName: string;
  arn: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
  service: string;
  environment: string;
  accountId: string;
  /** Set when the secret is scheduled for deletion. */
  deletedAt?: string;
}

export interface SvidPlacement {
  secretName: string;
  service: string;
  environment: string;
  /** The enrolled account whose reader roles may read the secret. */
  accountId: string;
  readerRoles: string[];
}

export interface SvidWrite extends SvidPlacement {
  /** Deterministic per issuance: a retry or replay of the same issuance makes no second version. */
  issuanceToken: string;
  spiffeId: string;
  serial: string;
  notAfter: string;
  secret: SpireSvidSecret;
}

/** One secret per (service, environment) in the central account's Secrets Manager. */
export interface SvidStore {
  /** Every SVID secret carrying our ownership marker, from tags only: about one call per 100 secrets. */
  listOwned(): Promise<StoredSvid[]>;
  /**
   * The SVID stored under this name. `writtenByToken` is true when a labelled version (current or
   * previous) was written by this issuance token. Throws SecretNotOwned for a secret without our marker.
   */
  find(
    secretName: string,
    issuanceToken?: string,
  ): Promise<(StoredSvid & { writtenByToken: boolean }) | undefined>;
  /**
   * The current value of an SVID secret, by name or full ARN (a cross-account read needs the ARN).
   * Throws SvidUnavailable when there is none: not issued yet, or scheduled for deletion.
   */
  read(secretId: string): Promise<SpireSvidSecret>;
  /**
   * Writes a new version (idempotent per issuanceToken), tags and resource policy; restores a secret
   * scheduled for deletion first. A retry of an issuance that a later one replaced changes nothing.
   * Throws SecretNotOwned, writing nothing, for a secret without our marker.
   */
  put(write: SvidWrite): Promise<{ arn: string; versionId: string }>;
  /** Schedules deletion with a recovery window. Throws SecretNotOwned for a foreign secret. */
  retire(secretName: string, recoveryWindowDays: number): Promise<{ deletionDate: string } | undefined>;
}
