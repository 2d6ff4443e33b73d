import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as z from '../functions/shared/domain/zod';
import {
  type CaMode,
  caModeRefusal,
  certificatesPerMonth,
  type CostInputs,
  generalPurposeFrom,
  type MeasuredCounts,
  monthlyCost,
  recommendCaMode,
} from './cost/cost-model';
import { SIMULATED_DURATIONS } from './cost/lambda-profile';
import { DAYS_PER_MONTH, PRICES } from './cost/prices';
import { renderTable } from './table';

export const COST_USAGE = `trust-bridge cost --accounts N [--secrets-per-account M] [--rotations-per-day R]
                  [--svid-validity-hours H] [--ca-mode short-lived|general-purpose] [--reconciles-per-day D]
                  [--changes-per-secret-per-month C] [--archive-retention-days K] [--json]
  What a month of trust-bridge costs on AWS, per line item, for N enrolled identities (one SVID each) with M
  synced secrets each (default 0): the CA and its certificates, Step Functions, Lambda, Secrets Manager,
  EventBridge, KMS and DynamoDB. Counts per unit of work come from \`bench counts\`
  (cli/cost/measured-counts.json), prices from cli/cost/prices.ts (us-east-1 list prices, dated). Defaults follow
  serverless.yml: 2 rotations a day, SVIDs valid 24 h, an hourly reconcile, a 400-day archive; the CA mode
  defaults to the cheaper one. Also says which CA mode costs less, and how the rotation interval moves the total.`;

const countsSchema = z.object({
  measuredWith: z.string(),
  ...Object.fromEntries(
    (['renewal', 'reconcile', 'targetedSync'] as const).map((unit) => [
      unit,
      z.object({
        caIssue: z.number(),
        secretsManagerCalls: z.number(),
        secretsManagerValueWrites: z.number(),
        secretsManagerValueReads: z.number(),
        auditEvents: z.number(),
        auditEventBytes: z.number(),
        stateTransitions: z.number(),
        lambdaInvocations: z.record(z.string(), z.number()),
        accountStatusWrites: z.number(),
      }),
    ]),
  ),
});

/** What `bench counts` measured, as committed beside the model. */
export const measuredCounts = (): MeasuredCounts =>
  countsSchema.parse(
    JSON.parse(readFileSync(new URL('./cost/measured-counts.json', import.meta.url), 'utf8')),
  ) as MeasuredCounts;

const usd = (n: number) =>
  `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Rotation intervals to compare, each with SVIDs valid twice as long (renewed at half-life, as by default). */
const INTERVALS_HOURS = [24, 12, 6, 2];

/** `trust-bridge cost`: the monthly cost per line item, the cheaper CA mode, and what the rotation interval does. */
export const costCommand = async (
  argv: string[],
  print: (line: string) => void = console.log,
): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: 'string' },
      'secrets-per-account': { type: 'string', default: '0' },
      'rotations-per-day': { type: 'string', default: '2' },
      'svid-validity-hours': { type: 'string', default: '24' },
      'ca-mode': { type: 'string' },
      'reconciles-per-day': { type: 'string', default: '24' },
      'changes-per-secret-per-month': { type: 'string', default: '1' },
      'archive-retention-days': { type: 'string', default: '400' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const number = (name: keyof typeof values, least: number) => {
    const n = Number(values[name]);
    if (values[name] === undefined || !Number.isFinite(n) || n < least) {
      throw usageError(`--${name} takes a number from ${least}`);
    }
    return n;
  };
  const mode = values['ca-mode'];
  if (mode !== undefined && mode !== 'short-lived' && mode !== 'general-purpose') {
    throw usageError('--ca-mode is short-lived or general-purpose');
  }
  const base = {
    accounts: number('accounts', 1),
    secretsPerAccount: number('secrets-per-account', 0),
    rotationsPerDay: number('rotations-per-day', 0.01),
    svidValidityHours: number('svid-validity-hours', 1),
    reconcilesPerDay: number('reconciles-per-day', 0),
    changesPerSecretPerMonth: number('changes-per-secret-per-month', 0),
    archiveRetentionDays: number('archive-retention-days', 0),
  };
  if (base.svidValidityHours < 24 / base.rotationsPerDay) {
    throw usageError(
      `SVIDs valid ${base.svidValidityHours} h expire before the next rotation, ${count(24 / base.rotationsPerDay)} h later`,
    );
  }
  const recommendation = recommendCaMode({ ...base, caMode: 'general-purpose' });
  const inputs: CostInputs = { ...base, caMode: (mode as CaMode | undefined) ?? recommendation.mode };
  const refusal = caModeRefusal(inputs.caMode, inputs.svidValidityHours);
  if (refusal) throw usageError(refusal);

  const counts = measuredCounts();
  const cost = monthlyCost(inputs, counts);
  const threshold = generalPurposeFrom(inputs.rotationsPerDay);
  const intervals = INTERVALS_HOURS.map((hours) => {
    const at = { ...inputs, rotationsPerDay: 24 / hours, svidValidityHours: 2 * hours };
    const cheaper = recommendCaMode({ ...at, caMode: 'general-purpose' });
    return {
      rotationHours: hours,
      svidValidityHours: 2 * hours,
      certificates: certificatesPerMonth(at),
      caUsd: cheaper.usd,
      cheaperMode: cheaper.mode,
      totalUsd: monthlyCost({ ...at, caMode: cheaper.mode }, counts).totalUsd,
    };
  });

  if (values.json) {
    print(
      JSON.stringify(
        {
          inputs,
          prices: { asOf: PRICES.asOf, region: PRICES.region },
          countsMeasuredWith: counts.measuredWith,
          ...cost,
          recommendation: { ...recommendation, generalPurposeFromAccounts: threshold },
          intervals,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  print(
    `${count(inputs.accounts)} accounts, ${count(inputs.secretsPerAccount)} secrets each, ` +
      `${count(inputs.rotationsPerDay)} rotations a day, SVIDs valid ${count(inputs.svidValidityHours)} h, ` +
      `${inputs.caMode} CA; a month of ${count(DAYS_PER_MONTH)} days`,
  );
  print('');
  print(
    renderTable(
      ['LINE ITEM', 'QUANTITY', 'UNIT', 'USD / MONTH'],
      [
        ...cost.lineItems.map((l) => [l.item, count(l.quantity), l.unit, usd(l.usd)]),
        ['TOTAL', '', '', usd(cost.totalUsd)],
      ],
    ),
  );
  print('');
  const [sl, gp] = [recommendation.usd['short-lived'], recommendation.usd['general-purpose']];
  print(
    `CA mode: ${recommendation.mode} costs less here (short-lived ${sl === null ? 'cannot issue these SVIDs' : usd(sl)}, ` +
      `general-purpose ${usd(gp ?? 0)} a month); at ${count(inputs.rotationsPerDay)} rotations a day, ` +
      `general-purpose costs less from ${count(threshold)} accounts.`,
  );
  print('');
  print(
    renderTable(
      [
        'ROTATION',
        'SVID VALIDITY',
        'CERTIFICATES / MONTH',
        'CA SHORT-LIVED',
        'CA GENERAL-PURPOSE',
        'TOTAL (CHEAPER CA)',
      ],
      intervals.map((i) => [
        `every ${i.rotationHours} h`,
        `${i.svidValidityHours} h`,
        count(i.certificates),
        i.caUsd['short-lived'] === null ? '-' : usd(i.caUsd['short-lived']),
        usd(i.caUsd['general-purpose'] ?? 0),
        `${usd(i.totalUsd)} (${i.cheaperMode})`,
      ]),
    ),
  );
  print('');
  print(
    `prices: ${PRICES.region} list prices as of ${PRICES.asOf} (cli/cost/prices.ts); counts per unit: ` +
      `\`${counts.measuredWith}\`; Lambda durations simulated: \`${SIMULATED_DURATIONS.measuredWith}\` ` +
      '(retire-svid and receive-webhook assumed: cli/cost/lambda-profile.ts)',
  );
  return 0;
};

/** A bad option value, reported by main as a usage error (exit 2), like parseArgs' own. */
const usageError = (message: string) =>
  Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
