import { LAMBDA_PROFILE } from '../../../cli/cost/lambda-profile';
import { describe, expect, it } from '@jest/globals';
import {
  caCost,
  caModeRefusal,
  certificatesPerMonth,
  type CostInputs,
  generalPurposeFrom,
  type MeasuredCounts,
  monthlyCost,
  recommendCaMode,
  type UnitCounts,
} from '../../../cli/cost/cost-model';
import { DAYS_PER_MONTH } from '../../../cli/cost/prices';

describe('the CA', () => {
  it('prices general-purpose certificates in their monthly tiers, and short-lived ones flat', () => {
    expect(caCost('general-purpose', 0)).toBe(400);
    expect(caCost('general-purpose', 1_000)).toBeCloseTo(400 + 750);
    expect(caCost('general-purpose', 10_000)).toBeCloseTo(400 + 750 + 9_000 * 0.35);
    expect(caCost('general-purpose', 600_000)).toBeCloseTo(400 + 750 + 3_150 + 590_000 * 0.001);
    expect(caCost('short-lived', 600_000)).toBeCloseTo(50 + 600_000 * 0.058);
  });

  it('says from how many accounts general-purpose costs less, and which mode costs less for a fleet', () => {
    const from = generalPurposeFrom(2);
    const at = (accounts: number) => certificatesPerMonth({ accounts, rotationsPerDay: 2 });
    expect(caCost('general-purpose', at(from))).toBeLessThan(caCost('short-lived', at(from)));
    expect(caCost('general-purpose', at(from - 1))).toBeGreaterThanOrEqual(
      caCost('short-lived', at(from - 1)),
    );
    const inputs = { ...INPUTS, accounts: from };
    expect(recommendCaMode(inputs).mode).toBe('general-purpose');
    expect(recommendCaMode({ ...inputs, accounts: from - 1 }).mode).toBe('short-lived');
    // Rotating more often brings the crossing down.
    expect(generalPurposeFrom(4)).toBeLessThan(from);
  });

  it('refuses short-lived mode for SVIDs valid over 7 days, and recommends general-purpose then', () => {
    expect(caModeRefusal('short-lived', 168)).toBeUndefined();
    expect(caModeRefusal('short-lived', 169)).toMatch(/valid 168 h at most/);
    expect(caModeRefusal('general-purpose', 10_000)).toBeUndefined();
    expect(recommendCaMode({ ...INPUTS, accounts: 10, svidValidityHours: 240 })).toMatchObject({
      mode: 'general-purpose',
      usd: { 'short-lived': null },
    });
  });
});

const unit = (overrides: Partial<UnitCounts> = {}): UnitCounts => ({
  caIssue: 0,
  secretsManagerCalls: 0,
  secretsManagerValueWrites: 0,
  secretsManagerValueReads: 0,
  auditEvents: 0,
  auditEventBytes: 0,
  stateTransitions: 0,
  lambdaInvocations: {},
  accountStatusWrites: 0,
  ...overrides,
});

const COUNTS: MeasuredCounts = {
  measuredWith: 'a test',
  renewal: unit({
    caIssue: 1,
    secretsManagerCalls: 4,
    secretsManagerValueWrites: 1,
    auditEvents: 1,
    auditEventBytes: 1024,
    stateTransitions: 2,
    lambdaInvocations: { 'issue-svid': 1 },
    accountStatusWrites: 1,
  }),
  reconcile: unit({
    secretsManagerCalls: 2,
    secretsManagerValueReads: 1,
    stateTransitions: 1,
    lambdaInvocations: { 'sync-agent': 1 },
  }),
  targetedSync: unit({ secretsManagerCalls: 4, stateTransitions: 11 }),
};

const INPUTS: CostInputs = {
  accounts: 1_000,
  secretsPerAccount: 0,
  rotationsPerDay: 2,
  svidValidityHours: 24,
  caMode: 'general-purpose',
  reconcilesPerDay: 24,
  changesPerSecretPerMonth: 1,
  archiveRetentionDays: 400,
};

const item = (cost: ReturnType<typeof monthlyCost>, prefix: string) =>
  cost.lineItems.find((l) => l.item.startsWith(prefix));

describe('a month', () => {
  it('has a line for the CA, Step Functions, Lambda, Secrets Manager, EventBridge, KMS and DynamoDB, summed', () => {
    const cost = monthlyCost(INPUTS, COUNTS);
    expect(cost.lineItems.map((l) => l.item)).toEqual([
      'Private CA (general-purpose)',
      'Step Functions',
      'Lambda requests',
      'Lambda compute',
      'Secrets Manager secrets',
      'Secrets Manager API',
      'EventBridge events',
      'EventBridge archive',
      'KMS keys',
      'KMS requests',
      'DynamoDB',
    ]);
    expect(cost.totalUsd).toBeCloseTo(cost.lineItems.reduce((n, l) => n + l.usd, 0));
  });

  it('counts each renewal of each account by what one renewal measured', () => {
    const cost = monthlyCost(INPUTS, COUNTS);
    const renewals = 1_000 * 2 * DAYS_PER_MONTH;
    expect(item(cost, 'Private CA')?.quantity).toBeCloseTo(renewals);
    expect(item(cost, 'Step Functions')?.quantity).toBeCloseTo(2 * renewals);
    expect(item(cost, 'Secrets Manager API')?.quantity).toBeCloseTo(4 * renewals);
    expect(item(cost, 'KMS requests')?.quantity).toBeCloseTo(renewals);
    expect(item(cost, 'DynamoDB')?.quantity).toBeCloseTo(renewals);
    // Identity only: one SVID secret per account, the webhook key; the central stack's two keys.
    expect(item(cost, 'Secrets Manager secrets')?.quantity).toBe(1_001);
    expect(item(cost, 'KMS keys')?.quantity).toBe(2);
    // issue-svid: 512 MB for its simulated billed duration (cli/cost/lambda-profile.ts).
    const issuer = LAMBDA_PROFILE['issue-svid']!;
    expect(item(cost, 'Lambda compute')?.quantity).toBeCloseTo(renewals * 0.5 * (issuer.billedMs / 1000));
  });

  it('adds, with secrets, each account`s hourly reconcile, its secrets, its key, and each change`s delivery', () => {
    const identityOnly = monthlyCost(INPUTS, COUNTS);
    const withSecrets = monthlyCost({ ...INPUTS, secretsPerAccount: 10 }, COUNTS);
    const reconciles = 1_000 * 24 * DAYS_PER_MONTH;
    const changes = 1_000 * 10;
    expect(item(withSecrets, 'Secrets Manager secrets')?.quantity).toBe(1_001 + 1_000 * 11);
    expect(item(withSecrets, 'KMS keys')?.quantity).toBe(2 + 1_000);
    expect(item(withSecrets, 'Step Functions')?.quantity).toBeCloseTo(
      (item(identityOnly, 'Step Functions')?.quantity ?? 0) + reconciles + 11 * changes,
    );
    expect(item(withSecrets, 'Lambda requests')?.quantity).toBeCloseTo(
      (item(identityOnly, 'Lambda requests')?.quantity ?? 0) + reconciles + changes,
    );
    expect(item(withSecrets, 'EventBridge events')?.quantity).toBeCloseTo(
      (item(identityOnly, 'EventBridge events')?.quantity ?? 0) + changes,
    );
  });
});
