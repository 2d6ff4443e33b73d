import type { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import type {
  PutEventsCommand,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The slices of the AWS SDK clients the adapters use. The real clients satisfy them on AWS; the local
 * stand-ins (local-stack/stand-ins/) implement them at home, so one adapter serves both.
 */
export type AcmPcaApi = Pick<ACMPCAClient, 'send'>;
export type SecretsManagerApi = Pick<SecretsManagerClient, 'send'>;
export interface EventBridgeApi {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

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
