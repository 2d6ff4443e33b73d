import type { KeywhizSecret, KeywhizSecretInfo } from '../../domain/keywhiz';

/** The mTLS identity a sync agent shows Keywhiz: its own service's SVID, read from the central store. */
export interface KeywhizCredentials {
  /** PEM chain, leaf first. */
  certificateChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/**
 * The CA that signs Keywhiz's server certificate, as the agent's own account keeps it (KEYWHIZ_SERVER_CA_SECRET).
 * Read once and kept for the life of the container.
 */
export interface KeywhizServerCa {
  /** Where the bundle is kept, for errors, e.g. `KEYWHIZ_SERVER_CA_SECRET trust-bridge/keywhiz-server-ca`. */
  readonly source: string;
  /**
   * The PEM bundle. Throws InvalidConfiguration naming the secret when it is missing, empty or not PEM certificates
   * (nothing is kept then: the next call reads again).
   */
  pem(): Promise<string>;
  /** Drops the kept bundle: Keywhiz's certificate did not chain to it, so the next invocation reads it again. */
  forget(): void;
}

/** What `fetch` obtained. A name in neither map was answered 404: deleted since the listing. */
export interface FetchedSecrets {
  secrets: Map<string, KeywhizSecret>;
  /**
   * Names that failed on their own, each with its error (never content): a 403 (unassigned since the listing), a
   * 5xx after the retries, an answer that is not a valid delivery. The other names are unaffected.
   */
  failed: Map<string, Error>;
}

/**
 * Keywhiz's client API, seen by one service: only the secrets assigned to that service's client.
 *
 * On AWS: `./keywhiz-client.ts`, over mTLS. At home: the same client against the Keywhiz dev server
 * (`local-stack/stand-ins/keywhiz/`), which speaks Keywhiz's HTTP API.
 */
export interface SecretSource {
  /**
   * `GET /secrets`: every secret assigned to the caller, metadata only.
   * Throws KeywhizUnavailable (after bounded, jittered retries of 429, 5xx, timeouts and transport errors),
   * SecretAccessDenied (401: no Keywhiz client has this SPIFFE ID; 403) or InvalidKeywhizResponse.
   */
  list(): Promise<KeywhizSecretInfo[]>;
  /**
   * The content of the named secrets: `POST /batchsecret`, falling back to `GET /secret/{name}` one by one when
   * the batch fails (403, 404, 500, a malformed answer, no batch endpoint). A secret that fails on its own is in
   * `failed`, the others are delivered. Throws only for what fails every secret alike: SecretAccessDenied (401),
   * KeywhizUnavailable (429, transport errors and timeouts after the retries), InvalidConfiguration (TLS trust).
   */
  fetch(names: string[]): Promise<FetchedSecrets>;
  /** Ends the connections; the source is not used afterwards. */
  close(): void;
}

/**
 * Builds the source for one service's credentials in the account the agent runs in (whose Secrets Manager keeps
 * Keywhiz's CA); the agent makes one per invocation. Throws InvalidConfiguration when that CA cannot be had.
 */
export type SecretSourceFactory = (
  credentials: KeywhizCredentials,
  accountId: string,
) => Promise<SecretSource>;
