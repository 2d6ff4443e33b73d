import { readFileSync } from 'node:fs';
import { expect, test } from '@jest/globals';
import {
  AuditDeliveryFailed,
  CaThrottled,
  CertificateNotYetIssued,
  EnrollmentsUnavailable,
  KeywhizUnavailable,
  RETRYABLE_ERRORS,
  SecretWriteRaced,
  StoreThrottled,
} from '../../functions/shared/domain/errors';

type State = {
  Type: string;
  Retry?: { ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string }[];
};
type Definition = { States: Record<string, State & { ItemProcessor?: Definition }> };

/** Every state of a definition, nested Map processors included. */
const statesOf = (file: string): Record<string, State> => {
  const walk = (d: Definition): [string, State][] =>
    Object.entries(d.States).flatMap(([name, s]) => [
      [name, s],
      ...(s.ItemProcessor ? walk(s.ItemProcessor) : []),
    ]);
  return Object.fromEntries(
    walk(JSON.parse(readFileSync(new URL(`../../statemachines/${file}`, import.meta.url), 'utf8'))),
  );
};
const states = {
  ...statesOf('rotate-svids.asl.json'),
  ...statesOf('rotate-svids-chunk.asl.json'),
  ...statesOf('sync-secrets-chunk.asl.json'),
};

test.each([
  ['Plan Rotation', [EnrollmentsUnavailable, StoreThrottled, AuditDeliveryFailed]],
  ['Load Chunk', [EnrollmentsUnavailable]],
  ['Issue SVID', [CaThrottled, CertificateNotYetIssued, StoreThrottled]],
  ['Retire SVID', [StoreThrottled]],
  ['Report Outcomes', [AuditDeliveryFailed]],
  ['Sync Agent', [KeywhizUnavailable, StoreThrottled, SecretWriteRaced]],
])('%s retries the retryable errors its step throws, with backoff and full jitter', (name, errors) => {
  const retry = states[name]?.Retry ?? [];
  const retried = retry.flatMap((r) => r.ErrorEquals);
  for (const error of errors) {
    expect(RETRYABLE_ERRORS).toContain(error.name);
    expect(retried).toContain(error.name);
  }
  for (const r of retry) {
    expect(r.BackoffRate).toBeGreaterThan(1);
    expect(r.JitterStrategy).toBe('FULL');
  }
});
