/** The call probe (call-probe.ts) on the local ACM Private CA, by the operations it implements. */
import type { LocalServices } from '../local-stack/stack';
import { type CallProbe, probeCalls } from './call-probe';

const OPERATIONS = ['IssueCertificate', 'GetCertificate', 'GetCertificateAuthorityCertificate'] as const;

/** The operations the stand-in implements, as ACM Private CA names them. */
export type AcmPcaOperation = (typeof OPERATIONS)[number];

export interface AcmPcaProbe extends CallProbe<AcmPcaOperation> {
  /** Calls per operation since the probe was put on, failed ones included; each starts at 0. */
  readonly calls: Record<AcmPcaOperation, number>;
}

/**
 * The CA's probe, put on at the first ask by replacing its `send`: counts start then, so put it on before the
 * calls it is to count.
 */
export const probeAcmPca = (pca: LocalServices['pca']): AcmPcaProbe =>
  probeCalls(pca, OPERATIONS) as AcmPcaProbe;
