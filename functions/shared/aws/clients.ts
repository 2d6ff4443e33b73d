import type { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  PutEventsCommand,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The slices of the AWS SDK clients the adapters use. The real clients satisfy them on AWS; the local
 * stand-ins (local-stack/stand-ins/) implement them at home, so one adapter serves both.
 */
export type AcmPcaApi = Pick<ACMPCAClient, 'send'>;
export type SecretsManagerApi = Pick<SecretsManagerClient, 'send'>;
export type DynamoDbApi = Pick<DynamoDBClient, 'send'>;
export type S3Api = Pick<S3Client, 'send'>;
export interface EventBridgeApi {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

/**
 * How many attempts every function's SDK client makes per call (the SDK's standard mode: jittered backoff on
 * throttling, 5xx and timed-out calls). The retry happens where the call failed, one page or one write, so a step
 * that makes hundreds of calls is not re-run whole by the ASL's Retry for one unlucky call. `npm run chaos` (42 %
 * of attempts failing) set the figure: with the SDK's default 3, 7 % of calls still failed and runs did not
 * converge within one replay; with 5, 1.3 % fail and every seed converged without one.
 */
export const SDK_MAX_ATTEMPTS = 5;

/** A function's SDK client configuration: its region and the attempts above. */
export const sdkClientConfig = (region: string) => ({ region, maxAttempts: SDK_MAX_ATTEMPTS });

/** PutEvents accepts at most this many entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** PutEvents accepts at most this many bytes per call, counted by putEventsEntrySize. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** An entry's size the way EventBridge counts it against the 256 KB limit (AWS's published method). */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0)
  );
}
