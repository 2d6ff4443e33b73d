/**
 * trust-bridge's function-side client: a Lambda function's own SPIFFE X509-SVID from Secrets Manager
 * (directly or through the AWS Parameters and Secrets Lambda Extension), cached until it nears renewal,
 * and mTLS with SPIFFE ID allow-lists on both sides. See README.md beside this file.
 */
export { SvidClient, type SvidClientOptions } from './svid-client';
export { X509Svid } from './x509-svid';
export { SpiffeIdAllowList, spiffeIdOf } from './spiffe-id';
export { mtlsAgentOptions, mtlsServer, PeerAuthorizer, type MtlsServer } from './mtls';
export {
  detectedSource,
  extensionSource,
  secretsManagerSource,
  type ExtensionOptions,
  type SecretsManagerReader,
  type SvidSecretSource,
} from './secret-sources';
export {
  InvalidSvidClientOption,
  PeerNotAuthorized,
  SvidClientError,
  SvidExpired,
  SvidSecretInvalid,
  SvidUnavailable,
} from './errors';
