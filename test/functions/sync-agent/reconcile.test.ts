import { describe, expect, it } from '@jest/globals';
import { guardDeletions, reconcile } from '../../../functions/sync-agent/reconcile';
import type { KeywhizSecretInfo } from '../../../functions/shared/domain/keywhiz';
import type { SyncedSecret } from '../../../functions/shared/ports/secret-store/secret-store';

const PREFIX = 'trust-bridge/keywhiz/prod/payments/';
const listed = (name: string, extra: Partial<KeywhizSecretInfo> = {}): KeywhizSecretInfo => ({
  name,
  checksum: `sum-${name}`,
  updateDate: '2025-03-01T00:00:00.000Z',
  secretLength: 10,
  metadata: {},
  ...extra,
});
const held = (name: string, extra: Partial<SyncedSecret> = {}): SyncedSecret => ({
  secretName: `${PREFIX}${name}`,
  arn: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${PREFIX}${name}-AbCdEf`,
  keywhizName: name,
  checksum: `sum-${name}`,
  updateDate: '2025-03-01T00:00:00.000Z',
  complete: true,
  ...extra,
});

describe('reconcile', () => {
  it('reads nothing for an unchanged checksum, fetches new and changed secrets, removes the unlisted', () => {
    const plan = reconcile(
      [listed('same'), listed('changed', { checksum: 'new' }), listed('new')],
      [held('same'), held('changed'), held('gone')],
      PREFIX,
    );
    expect(plan.unchanged).toBe(1);
    expect(plan.fetch.map((f) => [f.keywhizName, f.stored?.keywhizName])).toEqual([
      ['changed', 'changed'],
      ['new', undefined],
    ]);
    expect(plan.remove.map((s) => s.keywhizName)).toEqual(['gone']);
    expect(plan.refusals).toEqual([]);
    expect(plan.failures).toEqual([]);
  });

  it('restores a secret scheduled for deletion that came back with the same checksum, without a read', () => {
    const plan = reconcile(
      [listed('back')],
      [held('back', { deletedAt: '2025-03-02T00:00:00.000Z' })],
      PREFIX,
    );
    expect(plan.restore.map((s) => s.keywhizName)).toEqual(['back']);
    expect(plan.fetch).toEqual([]);
    // Already scheduled for deletion and still unlisted: not deleted twice.
    expect(reconcile([], [held('x', { deletedAt: '2025-03-02T00:00:00.000Z' })], PREFIX).remove).toEqual([]);
  });

  it('refuses content older than what the account holds, and fails a secret Keywhiz says is over 64 KB', () => {
    const plan = reconcile(
      [
        listed('old', { checksum: 'older', updateDate: '2025-02-01T00:00:00.000Z' }),
        listed('big', { secretLength: 65_537 }),
      ],
      [held('old')],
      PREFIX,
    );
    expect(plan.fetch).toEqual([]);
    expect(plan.refusals).toMatchObject([{ reason: 'older-than-stored', names: { keywhizName: 'old' } }]);
    expect(plan.refusals[0]?.message).toMatch(/2025-02-01.*older than the stored 2025-03-01/);
    expect(plan.failures).toMatchObject([{ error: 'SecretTooLarge', names: { keywhizName: 'big' } }]);
  });

  it('fails a name Secrets Manager cannot take and a name listed twice, and goes on with the rest', () => {
    const plan = reconcile(
      [listed('x'.repeat(196)), listed('twice'), listed('twice'), listed('ok')],
      [],
      PREFIX,
    );
    expect(plan.failures.map((f) => f.error)).toEqual([
      'SecretNameNotMappable',
      'SecretNameNotMappable',
      'SecretNameNotMappable',
    ]);
    expect(plan.fetch.map((f) => f.keywhizName)).toEqual(['ok']);
  });

  it('narrowed to one secret, touches that one only: fetched when changed, removed when unlisted', () => {
    const listing = [listed('a', { checksum: 'new' }), listed('b', { checksum: 'new' })];
    const narrowed = reconcile(listing, [held('a'), held('b')], PREFIX, 'a');
    expect(narrowed.fetch.map((f) => f.keywhizName)).toEqual(['a']);
    expect(narrowed.unchanged).toBe(0);
    const removed = reconcile([listed('b')], [held('a'), held('b')], PREFIX, 'a');
    expect(removed.remove.map((s) => s.keywhizName)).toEqual(['a']);
    expect(removed.unchanged).toBe(0);
  });
});

describe('guardDeletions', () => {
  const stored = ['a', 'b', 'c', 'd'].map((n) => held(n));

  it('lets through deletions up to the share, and always a single one', () => {
    expect(guardDeletions(stored.slice(0, 2), stored, 0.5).remove).toHaveLength(2);
    expect(guardDeletions(stored.slice(0, 1), stored.slice(0, 1), 0.5).remove).toHaveLength(1);
  });

  it('refuses every deletion when more than the share would go', () => {
    const guarded = guardDeletions(stored.slice(0, 3), stored, 0.5);
    expect(guarded.remove).toEqual([]);
    expect(guarded.refusal).toMatchObject({ reason: 'mass-deletion', count: 3 });
    expect(guarded.refusal?.message).toBe(
      'the listing would delete 3 of 4 synced secrets, more than 50 %; nothing deleted',
    );
  });
});
