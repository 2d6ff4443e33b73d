/**
 * What the quota-true simulation assumes of AWS: each API's default rate quota (a token bucket: `burst` tokens,
 * refilled at `perSecond`) and its typical latency. One table, printed with every run and shown in the README, so
 * every figure the simulation gives can be traced to the quota or assumption behind it. Quotas are per account and
 * Region (us-east-1); a Secrets Manager quota applies to each account's store on its own.
 */
export interface ApiQuota {
  service:
    'ACM PCA' | 'Secrets Manager' | 'EventBridge' | 'DynamoDB' | 'Step Functions' | 'Lambda' | 'Keywhiz';
  /** The operations that share the bucket, as the quota names them. */
  operations: string[];
  perSecond: number;
  burst: number;
  /** Typical time an answered call takes, ms. */
  latencyMs: number;
  source: string;
}

const PCA_QUOTAS = 'AWS General Reference, "AWS Private CA endpoints and quotas" (default, us-east-1)';
const SM_QUOTAS = 'Secrets Manager User Guide, "AWS Secrets Manager quotas" (not adjustable)';
const SFN_QUOTAS = 'Step Functions Developer Guide, "Step Functions service quotas", Standard, us-east-1';
const ASSUMED_LATENCY = 'latency assumed: a same-Region API call from Lambda';

export const API_QUOTAS: ApiQuota[] = [
  {
    service: 'ACM PCA',
    operations: ['IssueCertificate'],
    perSecond: 25,
    burst: 25,
    latencyMs: 150,
    source: `${PCA_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'ACM PCA',
    operations: ['GetCertificate'],
    perSecond: 75,
    burst: 75,
    latencyMs: 40,
    source: `${PCA_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'ACM PCA',
    operations: ['GetCertificateAuthorityCertificate'],
    perSecond: 75,
    burst: 75,
    latencyMs: 40,
    source: `${PCA_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['GetSecretValue'],
    perSecond: 10_000,
    burst: 10_000,
    latencyMs: 20,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['DescribeSecret'],
    perSecond: 40_000,
    burst: 40_000,
    latencyMs: 20,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['ListSecrets'],
    perSecond: 100,
    burst: 100,
    latencyMs: 40,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['BatchGetSecretValue'],
    perSecond: 100,
    burst: 100,
    latencyMs: 40,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['PutSecretValue', 'UpdateSecretVersionStage', 'UpdateSecret'],
    perSecond: 50,
    burst: 50,
    latencyMs: 40,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['CreateSecret'],
    perSecond: 50,
    burst: 50,
    latencyMs: 60,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['TagResource', 'UntagResource'],
    perSecond: 50,
    burst: 50,
    latencyMs: 30,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['PutResourcePolicy', 'GetResourcePolicy', 'DeleteResourcePolicy'],
    perSecond: 50,
    burst: 50,
    latencyMs: 30,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Secrets Manager',
    operations: ['DeleteSecret', 'RestoreSecret'],
    perSecond: 50,
    burst: 50,
    latencyMs: 30,
    source: `${SM_QUOTAS}; ${ASSUMED_LATENCY}`,
  },
  {
    service: 'EventBridge',
    operations: ['PutEvents'],
    perSecond: 10_000,
    burst: 10_000,
    latencyMs: 30,
    source: `EventBridge User Guide, "Amazon EventBridge quotas" (PutEvents, us-east-1, entries a second); ${ASSUMED_LATENCY}`,
  },
  {
    service: 'Step Functions',
    operations: ['StateTransition'],
    perSecond: 5_000,
    burst: 5_000,
    latencyMs: 0,
    source: `${SFN_QUOTAS} (state throttling): each Task takes a token, a throttled one waits`,
  },
  {
    service: 'Step Functions',
    operations: ['StartExecution'],
    perSecond: 300,
    burst: 1_300,
    latencyMs: 0,
    source: `${SFN_QUOTAS} (API action throttling): not enforced, the engine starts child executions itself; a 10,000-account rotation starts 41, far inside the burst`,
  },
];

/** Lambda, as the simulation runs each step's handler. */
export const LAMBDA_QUOTAS = {
  /** Concurrent executions per account and Region; an invoke over it answers TooManyRequestsException. */
  concurrency: 1_000,
  concurrencySource: 'Lambda Developer Guide, "Lambda quotas": concurrent executions, default 1,000',
  /** The sandbox's own start before the function's code is imported, ms (assumed). */
  sandboxStartMs: 100,
  /** Step Functions to Lambda and back, per invocation, ms (assumed). */
  invokeLatencyMs: 15,
  /** How long an idle execution environment is kept (assumed: AWS does not say; observed 5-15 minutes). */
  idleLifetimeMs: 10 * 60_000,
  coldStartSource:
    "each function's INIT = 100 ms of sandbox start (assumed) + its import time as `bench init` measured it (README, Cold start)",
};

/**
 * Each step's import time with source maps on (`bench init`, README "Cold start of the packaged functions",
 * 2026-12-01): the code part of its cold start.
 */
export const MEASURED_INIT_MS: Record<string, number> = {
  'issue-svid': 242,
  'load-chunk': 59,
  'load-sync-chunk': 61,
  'plan-rotation': 145,
  'plan-sync': 61,
  'receive-webhook': 161,
  'report-outcomes': 157,
  'report-sync-outcomes': 158,
  'retire-svid': 128,
  'summarize-rotation': 55,
  'summarize-sync': 65,
  'sync-agent': 236,
};

/** ACM PCA answers GetCertificate with RequestInProgressException until this long after IssueCertificate. */
export const PCA_ISSUANCE_MS = 1_000;
export const PCA_ISSUANCE_SOURCE =
  'assumed: the SDK waiter certificateIssued polls every 1 s, and the adapter waits 1 s before its first GetCertificate';

/** Keywhiz, as each agent's SecretSource sees it (the simulation's own assumption; it has no AWS quota). */
export const KEYWHIZ_LATENCY_MS = 50;

export const quotaOf = (service: ApiQuota['service'], operation: string): ApiQuota | undefined =>
  API_QUOTAS.find((q) => q.service === service && q.operations.includes(operation));
