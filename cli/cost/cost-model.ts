/**
 * What a month of trust-bridge costs on AWS, per line item: the units of work a fleet makes in a month, times
 * what one unit makes in calls (measured by `bench counts`: cli/cost/measured-counts.json), times the list prices
 * (prices.ts). Pure: the command prints it.
 */
import { LAMBDA_PROFILE } from './lambda-profile';
import { DAYS_PER_MONTH, PRICES } from './prices';

export type CaMode = 'short-lived' | 'general-purpose';

export interface CostInputs {
  /** Enrolled (service, environment) identities: one SVID each. */
  accounts: number;
  /** Keywhiz secrets synced into each account; 0 for identity only. */
  secretsPerAccount: number;
  rotationsPerDay: number;
  svidValidityHours: number;
  caMode: CaMode;
  /** Full reconciles a day (serverless.yml's syncSchedule: hourly). */
  reconcilesPerDay: number;
  /** Keywhiz changes per secret per month, each a webhook delivery and a targeted sync. */
  changesPerSecretPerMonth: number;
  /** Days the audit archive keeps events (serverless.yml's auditArchiveRetentionDays). */
  archiveRetentionDays: number;
}

/** What one unit of work makes, as `bench counts` measures it. */
export interface UnitCounts {
  caIssue: number;
  secretsManagerCalls: number;
  secretsManagerValueWrites: number;
  secretsManagerValueReads: number;
  auditEvents: number;
  auditEventBytes: number;
  stateTransitions: number;
  lambdaInvocations: Record<string, number>;
  accountStatusWrites: number;
}

export interface MeasuredCounts {
  measuredWith: string;
  renewal: UnitCounts;
  reconcile: UnitCounts;
  targetedSync: UnitCounts;
}

export interface LineItem {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface MonthlyCost {
  lineItems: LineItem[];
  totalUsd: number;
}

/** Each webhook delivery: the receiver's invocation, its claim in the delivery table, one event on the bus. */
const RECEIVER = { step: 'receive-webhook', tableWrites: 1, events: 1, eventBytes: 500 };

/** The central stack's keys (SVIDs, webhook) and secret (the webhook key); each onboarded account adds a key and
 * the Keywhiz CA's secret. */
const CENTRAL = { kmsKeys: 2, secrets: 1 };
const PER_ONBOARDED_ACCOUNT = { kmsKeys: 1, secrets: 1 };

/** Certificates a month, priced in the CA's mode (general-purpose in its monthly tiers). */
export function caCost(mode: CaMode, certificates: number): number {
  const { generalPurpose, shortLived } = PRICES.privateCa;
  if (mode === 'short-lived') return shortLived.monthlyPerCa + certificates * shortLived.each;
  let usd = generalPurpose.monthlyPerCa;
  let from = 0;
  for (const tier of generalPurpose.tiers) {
    const inTier = Math.max(0, Math.min(certificates, tier.upTo) - from);
    usd += inTier * tier.each;
    from = tier.upTo;
  }
  return usd;
}

/** Why a mode cannot issue these SVIDs (short-lived mode: 7 days at most), or undefined. */
export const caModeRefusal = (mode: CaMode, svidValidityHours: number): string | undefined =>
  mode === 'short-lived' && svidValidityHours > PRICES.privateCa.shortLived.maxValidityHours
    ? `short-lived mode issues certificates valid ${PRICES.privateCa.shortLived.maxValidityHours} h at most; SVIDs of ${svidValidityHours} h need general-purpose`
    : undefined;

export const certificatesPerMonth = (inputs: Pick<CostInputs, 'accounts' | 'rotationsPerDay'>) =>
  inputs.accounts * inputs.rotationsPerDay * DAYS_PER_MONTH;

export function monthlyCost(inputs: CostInputs, counts: MeasuredCounts): MonthlyCost {
  const secretAccounts = inputs.secretsPerAccount > 0 ? inputs.accounts : 0;
  const changes = secretAccounts * inputs.secretsPerAccount * inputs.changesPerSecretPerMonth;
  // The units of work a month makes, with what one of each makes.
  const work: [UnitCounts, number][] = [
    [counts.renewal, certificatesPerMonth(inputs)],
    [counts.reconcile, secretAccounts * inputs.reconcilesPerDay * DAYS_PER_MONTH],
    [counts.targetedSync, changes],
  ];
  const total = (count: (unit: UnitCounts) => number) =>
    work.reduce((n, [unit, times]) => n + count(unit) * times, 0);

  const invocations: Record<string, number> = { [RECEIVER.step]: changes };
  for (const [unit, times] of work) {
    for (const [step, n] of Object.entries(unit.lambdaInvocations)) {
      invocations[step] = (invocations[step] ?? 0) + n * times;
    }
  }
  const requests = Object.values(invocations).reduce((a, b) => a + b, 0);
  const gbSeconds = Object.entries(invocations).reduce((sum, [step, n]) => {
    const profile = LAMBDA_PROFILE[step];
    if (!profile) throw new Error(`no Lambda profile for step ${step} (cli/cost/lambda-profile.ts)`);
    return sum + n * (profile.memoryMb / 1024) * (profile.billedMs / 1000);
  }, 0);

  const certificates = total((u) => u.caIssue);
  const events = total((u) => u.auditEvents) + changes * RECEIVER.events;
  const archivedGb = (total((u) => u.auditEventBytes) + changes * RECEIVER.eventBytes) / 1024 ** 3;
  const keptGb = archivedGb * (inputs.archiveRetentionDays / DAYS_PER_MONTH);
  const secrets =
    inputs.accounts +
    secretAccounts * (inputs.secretsPerAccount + PER_ONBOARDED_ACCOUNT.secrets) +
    CENTRAL.secrets;
  const kmsKeys = CENTRAL.kmsKeys + secretAccounts * PER_ONBOARDED_ACCOUNT.kmsKeys;
  const kmsRequests = total((u) => u.secretsManagerValueWrites + u.secretsManagerValueReads);
  const transitions = total((u) => u.stateTransitions);
  const smCalls = total((u) => u.secretsManagerCalls);
  const tableWrites = total((u) => u.accountStatusWrites) + changes * RECEIVER.tableWrites;

  const { stepFunctions, lambda, secretsManager, eventBridge, kms, dynamoDb } = PRICES;
  const lineItems: LineItem[] = [
    {
      item: `Private CA (${inputs.caMode})`,
      quantity: certificates,
      unit: 'certificates',
      usd: caCost(inputs.caMode, certificates),
    },
    {
      item: 'Step Functions',
      quantity: transitions,
      unit: 'state transitions',
      usd: transitions * stepFunctions.perTransition,
    },
    { item: 'Lambda requests', quantity: requests, unit: 'invocations', usd: requests * lambda.perRequest },
    { item: 'Lambda compute', quantity: gbSeconds, unit: 'GB-seconds', usd: gbSeconds * lambda.perGbSecond },
    {
      item: 'Secrets Manager secrets',
      quantity: secrets,
      unit: 'secrets',
      usd: secrets * secretsManager.perSecretMonth,
    },
    {
      item: 'Secrets Manager API',
      quantity: smCalls,
      unit: 'calls',
      usd: smCalls * secretsManager.perApiCall,
    },
    {
      item: 'EventBridge events',
      quantity: events,
      unit: 'custom events',
      usd: events * eventBridge.perCustomEvent,
    },
    {
      item: 'EventBridge archive',
      quantity: keptGb,
      unit: `GB kept (${inputs.archiveRetentionDays} days)`,
      usd: archivedGb * eventBridge.archivePerGb + keptGb * eventBridge.archiveStoragePerGbMonth,
    },
    { item: 'KMS keys', quantity: kmsKeys, unit: 'keys', usd: kmsKeys * kms.perKeyMonth },
    { item: 'KMS requests', quantity: kmsRequests, unit: 'requests', usd: kmsRequests * kms.perRequest },
    {
      item: 'DynamoDB',
      quantity: tableWrites,
      unit: 'write requests',
      usd: tableWrites * dynamoDb.perWriteRequest,
    },
  ];
  return { lineItems, totalUsd: lineItems.reduce((n, l) => n + l.usd, 0) };
}

/** The CA mode that costs less for these inputs (of those that can issue the SVIDs), with both prices. */
export function recommendCaMode(inputs: CostInputs): { mode: CaMode; usd: Record<CaMode, number | null> } {
  const certificates = certificatesPerMonth(inputs);
  const usd = Object.fromEntries(
    (['short-lived', 'general-purpose'] as const).map((mode) => [
      mode,
      caModeRefusal(mode, inputs.svidValidityHours) ? null : caCost(mode, certificates),
    ]),
  ) as Record<CaMode, number | null>;
  const mode =
    usd['short-lived'] !== null && usd['short-lived'] <= (usd['general-purpose'] ?? Infinity)
      ? 'short-lived'
      : 'general-purpose';
  return { mode, usd };
}

/** The fewest accounts for which general-purpose mode costs less, at these rotations a day. */
export function generalPurposeFrom(rotationsPerDay: number): number {
  const cheaper = (accounts: number) => {
    const certificates = certificatesPerMonth({ accounts, rotationsPerDay });
    return caCost('general-purpose', certificates) < caCost('short-lived', certificates);
  };
  let low = 1;
  let high = 1;
  while (!cheaper(high)) high *= 2;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (cheaper(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
