/**
 * AWS list prices the cost model uses: us-east-1, on-demand, without free tiers or savings plans (a fleet of this
 * size is past them), as published on the pages named below on the date given. Each price is per one unit, so a
 * model reads `count × price`. Check the pages before you budget: prices change, and other regions differ.
 */
export const PRICES = {
  asOf: '2026-12-07',
  region: 'us-east-1',
  privateCa: {
    source: 'https://aws.amazon.com/private-ca/pricing/',
    /** General-purpose mode: a monthly fee per CA, and certificates in monthly tiers (per AWS account and region). */
    generalPurpose: {
      monthlyPerCa: 400,
      tiers: [
        { upTo: 1_000, each: 0.75 },
        { upTo: 10_000, each: 0.35 },
        { upTo: Number.POSITIVE_INFINITY, each: 0.001 },
      ],
    },
    /** Short-lived certificate mode: certificates valid 7 days at most, one flat price each. */
    shortLived: { monthlyPerCa: 50, each: 0.058, maxValidityHours: 7 * 24 },
  },
  stepFunctions: {
    source: 'https://aws.amazon.com/step-functions/pricing/',
    /** Standard workflows: per state transition (retries count). */
    perTransition: 0.025 / 1_000,
  },
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    perRequest: 0.2 / 1_000_000,
    /** arm64 (serverless.yml and the onboarding template deploy arm64), the first 7.5 billion GB-s a month. */
    perGbSecond: 0.0000133334,
  },
  secretsManager: {
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    perSecretMonth: 0.4,
    perApiCall: 0.05 / 10_000,
  },
  eventBridge: {
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    /** Custom events put on a bus, per 64 KB chunk (an audit event is under 2 KB). */
    perCustomEvent: 1 / 1_000_000,
    /** Archiving: per GB of events archived, and per GB-month kept. */
    archivePerGb: 0.1,
    archiveStoragePerGbMonth: 0.023,
  },
  kms: {
    source: 'https://aws.amazon.com/kms/pricing/',
    perKeyMonth: 1,
    /** Symmetric requests: Secrets Manager asks for a data key per value written and a decrypt per value read. */
    perRequest: 0.03 / 10_000,
  },
  dynamoDb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    /** On-demand, an item of at most 1 KB per write. */
    perWriteRequest: 0.625 / 1_000_000,
  },
} as const;

/** AWS bills a month as 730 hours. */
export const DAYS_PER_MONTH = 730 / 24;
