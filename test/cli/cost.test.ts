import { describe, expect, it } from '@jest/globals';
import { main } from '../../cli/main';
import { capturePrinted } from '../support/printed';

describe('trust-bridge cost', () => {
  const printed = capturePrinted();

  it('prints a line per item, the total, the cheaper CA mode and what the rotation interval does', async () => {
    const fleet = ['cost', '--accounts', '10000', '--secrets-per-account', '10'];
    expect(await main([...fleet, '--json'])).toBe(0);
    const { lineItems } = JSON.parse(printed.join('\n')) as { lineItems: { item: string }[] };
    printed.length = 0;
    expect(await main(fleet)).toBe(0);
    const text = printed.join('\n');
    // Each line item the model gives (test/cli/cost/cost-model.test.ts names them) and the total, in dollars.
    for (const item of [...lineItems.map((l) => l.item), 'TOTAL']) {
      expect(text).toMatch(new RegExp(`^${item.replace(/[()]/g, '\\$&')}\\s.*\\$[\\d,]+\\.\\d\\d$`, 'm'));
    }
    expect(text).toMatch(
      /^CA mode: general-purpose costs less here \(short-lived \$35,333\.33, general-purpose \$4,898\.33 a month\)/m,
    );
    expect(text).toMatch(/^every 6 h\s+12 h\s+1,216,667\s/m);
    expect(text).toMatch(/counts per unit: `node --import tsx bench\/main\.ts counts/);
  });

  it('takes the mode asked for, and gives the figures as JSON', async () => {
    expect(await main(['cost', '--accounts', '100', '--ca-mode', 'general-purpose', '--json'])).toBe(0);
    const report = JSON.parse(printed.join('\n')) as {
      inputs: { caMode: string; secretsPerAccount: number };
      lineItems: { item: string; usd: number }[];
      totalUsd: number;
      recommendation: { mode: string; generalPurposeFromAccounts: number };
      intervals: unknown[];
    };
    expect(report.inputs).toMatchObject({ caMode: 'general-purpose', secretsPerAccount: 0 });
    expect(report.lineItems[0]?.item).toBe('Private CA (general-purpose)');
    expect(report.totalUsd).toBeCloseTo(report.lineItems.reduce((n, l) => n + l.usd, 0));
    expect(report.recommendation.mode).toBe('short-lived');
    expect(report.recommendation.generalPurposeFromAccounts).toBeGreaterThan(100);
    expect(report.intervals).toHaveLength(4);
  });

  it('refuses what cannot be, naming it, with exit 2', async () => {
    expect(await main(['cost'])).toBe(2);
    expect(await main(['cost', '--accounts', 'many'])).toBe(2);
    expect(await main(['cost', '--accounts', '10', '--ca-mode', 'cheap'])).toBe(2);
    expect(await main(['cost', '--accounts', '10', '--svid-validity-hours', '6'])).toBe(2);
    expect(
      await main(['cost', '--accounts', '10', '--ca-mode', 'short-lived', '--svid-validity-hours', '240']),
    ).toBe(2);
    expect(printed).toEqual([
      expect.stringContaining('trust-bridge cost: --accounts takes a number from 1'),
      expect.stringContaining('trust-bridge cost: --accounts takes a number from 1'),
      expect.stringContaining('trust-bridge cost: --ca-mode is short-lived or general-purpose'),
      expect.stringContaining(
        'trust-bridge cost: SVIDs valid 6 h expire before the next rotation, 12 h later',
      ),
      expect.stringContaining('trust-bridge cost: short-lived mode issues certificates valid 168 h at most'),
    ]);
  });
});
