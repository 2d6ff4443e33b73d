import type { KeywhizSecret, KeywhizSecretInfo } from '../domain/keywhiz';

/** The mTLS identity a sync agent shows Keywhiz: its own service's SVID, read from the central store. */
export interface KeywhizCredentials {
  /** PEM chain, leaf first. */
  certificateChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** PEM roots that Keywhiz's server certificate must chain to. */
  bundlePem: string;
}

/** Keywhiz's client API, seen by one service: only the secrets assigned to that service's client. */
export interface SecretSource {
  /**
   * `GET /secrets`: every secret assigned to the caller, metadata only.
   * Throws KeywhizUnavailable (after bounded, jittered retries of 5xx and transport errors),
   * SecretAccessDenied (403) or InvalidKeywhizResponse.
   */
  list(): Promise<KeywhizSecretInfo[]>;
  /**
   * The content of the named secrets: `POST /batchsecret`, falling back to `GET /secret/{name}` one by one.
   * A name Keywhiz answers 404 for is absent from the result (deleted since the listing).
   * Throws as list(); SecretAccessDenied names the secret that was refused.
   */
  fetch(names: string[]): Promise<Map<string, KeywhizSecret>>;
  /** Ends the connections; the source is not used afterwards. */
  close(): void;
}

/** Builds the source for one service's credentials; the agent makes one per invocation. */
export type SecretSourceFactory = (credentials: KeywhizCredentials) => SecretSource;
