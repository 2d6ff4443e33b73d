/**
 * Each step's Lambda memory, as deployed (serverless.yml, and the onboarding template for the sync agent; a test
 * holds the two together), and the billed duration the cost model assumes per invocation. The durations are
 * assumptions, not measurements: the embedded default runs the handlers in process, without AWS's latencies.
 * Each names what it is made of; the quota-true simulation is to replace them with measured GB-seconds.
 */
export const LAMBDA_PROFILE: Record<string, { memoryMb: number; assumedMs: number; why: string }> = {
  'plan-rotation': {
    memoryMb: 512,
    assumedMs: 500,
    why: 'the registry and one ListSecrets page per 100 SVIDs',
  },
  'load-chunk': { memoryMb: 256, assumedMs: 200, why: 'reads the registry' },
  'issue-svid': {
    memoryMb: 512,
    assumedMs: 1_500,
    why: 'a P-256 key and CSR, IssueCertificate, about 1 s until GetCertificate answers, 4 Secrets Manager calls',
  },
  'retire-svid': { memoryMb: 256, assumedMs: 200, why: 'two Secrets Manager calls' },
  'report-outcomes': { memoryMb: 256, assumedMs: 300, why: 'PutEvents and BatchWriteItem for a chunk' },
  'summarize-rotation': { memoryMb: 128, assumedMs: 50, why: 'counts only' },
  'plan-sync': { memoryMb: 256, assumedMs: 200, why: 'reads the registry' },
  'load-sync-chunk': { memoryMb: 256, assumedMs: 200, why: 'reads the registry' },
  'sync-agent': {
    memoryMb: 256,
    assumedMs: 400,
    why: 'its SVID, an mTLS handshake and listing at Keywhiz, one ListSecrets page per 100 secrets',
  },
  'report-sync-outcomes': { memoryMb: 256, assumedMs: 300, why: 'PutEvents and BatchWriteItem for a chunk' },
  'summarize-sync': { memoryMb: 128, assumedMs: 50, why: 'counts only' },
  'receive-webhook': { memoryMb: 256, assumedMs: 100, why: 'a signature, a conditional put, one PutEvents' },
};
