/**
 * What the SVID client throws, each with its own `name` so callers can tell them apart. No message ever
 * carries the private key or any part of the secret value.
 */
export class SvidClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The SVID secret could not be read: not found, access denied, or the extension did not answer. */
export class SvidUnavailable extends SvidClientError {}

/** The secret was read but is not a usable SPIRE SVID secret (bad JSON, fields, PEM, or a key that does not match). */
export class SvidSecretInvalid extends SvidClientError {}

/** The only SVID at hand has expired (or is not valid yet): it is never presented. */
export class SvidExpired extends SvidClientError {}

/** The peer's certificate is not an SVID from a trusted trust domain on the allow-list. */
export class PeerNotAuthorized extends SvidClientError {}

/** An allow-list entry or an option is not what the client accepts. */
export class InvalidSvidClientOption extends SvidClientError {}
