import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SecretNameNotMappable } from '../../../../functions/shared/domain/errors';
import {
  findNameCollisions,
  keywhizNameOf,
  SECRET_NAME_MAX,
  secretVersionToken,
  syncedSecretName,
  syncedSecretPrefix,
} from '../../../../functions/shared/domain/synced-secret-name';

const PREFIX = syncedSecretPrefix('trust-bridge/secrets/', 'prod', 'payments');
/** What Secrets Manager accepts as a name. */
const VALID_SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

describe('syncedSecretPrefix', () => {
  it('is <prefix><environment>/<service>/', () => {
    expect(PREFIX).toBe('trust-bridge/secrets/prod/payments/');
  });
});

describe('syncedSecretName', () => {
  it.each([
    ['Database_Password', 'Database_Password'],
    ['General_Password..0be68f903f8b7d86', 'General_Password..0be68f903f8b7d86'],
    ['a=b@c.d-e', 'a=b@c.d-e'],
    ['db:password', 'db+3Apassword'],
    ['nested/name', 'nested+2Fname'],
    ['a+b', 'a+2Bb'],
    ['with space', 'with+20space'],
    ['mot-de-passe-é', 'mot-de-passe+2D+C3+A9'],
    ['mot-de-passe-éa', 'mot-de-passe-+C3+A9a'],
    ['🔑', '+F0+9F+94+91'],
    ['tls-abcdef', 'tls+2Dabcdef'],
    ['-abcdef', '+2Dabcdef'],
    ['key-ab:c', 'key+2Dab+3Ac'],
    ['key-abcdefg', 'key-abcdefg'],
    ['key-abcde', 'key-abcde'],
  ])('maps %j to <prefix>%s', (keywhizName, encoded) => {
    const name = syncedSecretName(PREFIX, keywhizName);
    expect(name).toBe(PREFIX + encoded);
    expect(name).toMatch(VALID_SECRET_NAME);
    expect(keywhizNameOf(PREFIX, name)).toBe(keywhizName);
  });

  it('never leaves a hyphen followed by six characters at the end', () => {
    for (const tail of ['abcdef', '+2F+2F', 'ABC123']) {
      expect(syncedSecretName('', `x-${tail}`)).not.toMatch(/-.{6}$/);
    }
  });

  it('takes names up to Keywhiz’s 195 characters', () => {
    const name = 'n'.repeat(195);
    expect(syncedSecretName(PREFIX, name)).toBe(PREFIX + name);
  });

  it.each([
    ['an empty name', '', /empty/],
    ['a name over 195 characters', 'n'.repeat(196), /196 characters long; Keywhiz allows at most 195/],
    [
      'a name whose output is over 512 characters',
      'é'.repeat(100),
      /maps to a Secrets Manager name of 635 characters; the limit is 512/,
    ],
    ['a lone surrogate', 'bad\uD800name', /lone UTF-16 surrogate/],
  ])('refuses %s with SecretNameNotMappable', (_, keywhizName, message) => {
    expect(() => syncedSecretName(PREFIX, keywhizName)).toThrow(SecretNameNotMappable);
    expect(() => syncedSecretName(PREFIX, keywhizName)).toThrow(message);
  });

  it('names the Keywhiz secret in its error', () => {
    expect(() => syncedSecretName(PREFIX, 'ü'.repeat(95))).toThrow('ü'.repeat(95));
  });
});

describe('keywhizNameOf', () => {
  it.each([
    ['another service', 'trust-bridge/secrets/prod/billing/Database_Password'],
    ['the prefix alone', PREFIX],
    ['a raw slash', `${PREFIX}nested/name`],
    ['a raw plus', `${PREFIX}a+b`],
    ['a lowercase escape', `${PREFIX}db+3apassword`],
    ['a needless escape', `${PREFIX}+41`],
    ['an unescaped ARN-suffix lookalike', `${PREFIX}tls-abcdef`],
    ['bytes that are not UTF-8', `${PREFIX}+FF`],
    ['a truncated escape', `${PREFIX}abc+2`],
  ])('is undefined for %s', (_, secretName) => {
    expect(keywhizNameOf(PREFIX, secretName)).toBeUndefined();
  });
});

describe('the mapping, for any names', () => {
  // At most 40 code points of up to 4 UTF-8 bytes: 480 characters, within the limit with PREFIX.
  const keywhizName = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
  const servicePrefix = fc.constantFrom(PREFIX, '', 'p-q/abc-/');

  it('gives a valid Secrets Manager name that keywhizNameOf maps back', () => {
    fc.assert(
      fc.property(servicePrefix, keywhizName, (prefix, name) => {
        const secretName = syncedSecretName(prefix, name);
        expect(secretName.slice(prefix.length)).toMatch(/^[A-Za-z0-9/_+=.@-]+$/);
        expect(secretName.length).toBeLessThanOrEqual(SECRET_NAME_MAX);
        expect(keywhizNameOf(prefix, secretName)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('maps distinct names to distinct Secrets Manager names', () => {
    fc.assert(
      fc.property(servicePrefix, keywhizName, keywhizName, (prefix, a, b) => {
        fc.pre(a !== b);
        expect(syncedSecretName(prefix, a)).not.toBe(syncedSecretName(prefix, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('maps near-identical names (same characters, escapes and hyphens) apart', () => {
    const tricky = fc.string({
      unit: fc.constantFrom('-', '+', '2', 'D', 'd', 'a', '/', ':', 'é'),
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(tricky, tricky, (a, b) => {
        fc.pre(a !== b);
        expect(syncedSecretName(PREFIX, a)).not.toBe(syncedSecretName(PREFIX, b));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('findNameCollisions', () => {
  it('finds none among distinct names, even ones differing only in case (Secrets Manager names are case-sensitive)', () => {
    expect(findNameCollisions(['Foo', 'foo', 'a:b', 'a+3Ab', 'x-abcdef', 'x+2Dabcdef'])).toEqual([]);
  });

  it('groups a name listed twice', () => {
    expect(findNameCollisions(['a', 'b:c', 'a', 'd'])).toEqual([['a', 'a']]);
  });
});

describe('secretVersionToken', () => {
  it('is a UUID that Secrets Manager takes as a ClientRequestToken (32–64 characters)', () => {
    const token = secretVersionToken('Database_Password', 'database_checksum');
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is the same for the same (name, checksum) and differs when either changes', () => {
    const token = secretVersionToken('Database_Password', 'database_checksum');
    expect(secretVersionToken('Database_Password', 'database_checksum')).toBe(token);
    expect(secretVersionToken('Database_Password', 'other_checksum')).not.toBe(token);
    expect(secretVersionToken('Nobody_PgPass', 'database_checksum')).not.toBe(token);
    // No ambiguity where the name ends and the checksum begins.
    expect(secretVersionToken('ab', 'c')).not.toBe(secretVersionToken('a', 'bc'));
  });
});
