import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { localConfig } from '../../../../local-stack/local-config';
import { InvalidSpiffeId } from '../../../../functions/shared/domain/errors';
import {
  parseSpiffeId,
  renderSpiffeId,
  SPIFFE_ID_MAX_LENGTH,
} from '../../../../functions/shared/domain/spiffe-id';

const defaultTemplate = localConfig().SPIFFE_ID_TEMPLATE;

const chars = (alphabet: string) => fc.constantFrom(...alphabet.split(''));
const trustDomainArb = fc.string({
  unit: chars('abcdefghijklmnopqrstuvwxyz0123456789.-_'),
  minLength: 1,
  maxLength: 30,
});
const segmentArb = fc
  .string({
    unit: chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_'),
    minLength: 1,
    maxLength: 20,
  })
  .filter((s) => s !== '.' && s !== '..');

function expectInvalid(id: string, message: RegExp) {
  expect(() => parseSpiffeId(id)).toThrow(InvalidSpiffeId);
  expect(() => parseSpiffeId(id)).toThrow(message);
}

describe('parseSpiffeId', () => {
  it('splits a valid ID into trust domain and path', () => {
    expect(parseSpiffeId('spiffe://example.org/prod/payments')).toEqual({
      trustDomain: 'example.org',
      path: ['prod', 'payments'],
    });
    expect(parseSpiffeId('spiffe://example.org')).toEqual({ trustDomain: 'example.org', path: [] });
  });

  it.each([
    ['', /it is empty/],
    ['http://example.org/a', /must start with "spiffe:\/\/"/],
    ['SPIFFE://example.org/a', /must start with "spiffe:\/\/"/],
    ['spiffe:///a', /trust domain is missing/],
    ['spiffe://Example.org/a', /trust domain must be lowercase/],
    ['spiffe://exa$mple.org/a', /trust domain has a character "\$"/],
    ['spiffe://example.org:443/a', /port/],
    ['spiffe://user@example.org/a', /userinfo/],
    ['spiffe://example.org/a?x=1', /query/],
    ['spiffe://example.org/a#frag', /fragment/],
    ['spiffe://example.org/a/', /trailing slash/],
    ['spiffe://example.org/', /trailing slash/],
    ['spiffe://example.org//a', /empty segment/],
    ['spiffe://example.org/a/./b', /"\." segment/],
    ['spiffe://example.org/a/..', /"\.\." segment/],
    ['spiffe://example.org/a%20b', /path segment "a%20b" has a character "%"/],
    ['spiffe://example.org/caf\u00e9', /has a character "\u00e9"/],
  ])('rejects %j saying what is wrong', (id, message) => expectInvalid(id, message));

  it('accepts exactly 253 characters and rejects 254 (the ACM PCA URI limit)', () => {
    const prefix = 'spiffe://example.org/';
    const fits = prefix + 'a'.repeat(SPIFFE_ID_MAX_LENGTH - prefix.length);
    expect(fits).toHaveLength(253);
    expect(parseSpiffeId(fits).path).toHaveLength(1);
    expectInvalid(`${fits}b`, /254 characters long; at most 253/);
  });

  it('round-trips every valid ID (property)', () => {
    fc.assert(
      fc.property(trustDomainArb, fc.array(segmentArb, { maxLength: 6 }), (trustDomain, path) => {
        const id = `spiffe://${trustDomain}${path.map((s) => `/${s}`).join('')}`;
        fc.pre(id.length <= SPIFFE_ID_MAX_LENGTH);
        expect(parseSpiffeId(id)).toEqual({ trustDomain, path });
      }),
    );
  });

  it('rejects random garbage with InvalidSpiffeId only (property)', () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 80 }).map((s) => `spiffe://${s}`),
      fc.tuple(trustDomainArb, fc.string({ maxLength: 40 })).map(([td, s]) => `spiffe://${td}/${s}`),
    );
    fc.assert(
      fc.property(garbage, (id) => {
        const valid =
          /^spiffe:\/\/[a-z0-9._-]+(\/(?!\.\.?(\/|$))[a-zA-Z0-9._-]+)*$/.test(id) && id.length <= 253;
        let thrown: unknown;
        try {
          parseSpiffeId(id);
        } catch (error) {
          thrown = error;
        }
        if (valid) expect(thrown).toBeUndefined();
        else expect(thrown).toBeInstanceOf(InvalidSpiffeId);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('renderSpiffeId', () => {
  it('fills the default template', () => {
    expect(
      renderSpiffeId(defaultTemplate, {
        trustDomain: 'example.org',
        environment: 'prod',
        service: 'payments',
      }),
    ).toBe('spiffe://example.org/prod/payments');
  });

  it('fills a custom template in any order', () => {
    expect(
      renderSpiffeId('spiffe://{trustDomain}/ns/{environment}/sa/{service}', {
        trustDomain: 'corp.example',
        environment: 'staging',
        service: 'billing-api',
      }),
    ).toBe('spiffe://corp.example/ns/staging/sa/billing-api');
  });

  it('refuses a service name that would add path segments', () => {
    expect(() =>
      renderSpiffeId(defaultTemplate, {
        trustDomain: 'example.org',
        environment: 'prod',
        service: 'other/admin',
      }),
    ).toThrow(/service "other\/admin" is not a single SPIFFE path segment/);
    expect(() =>
      renderSpiffeId(defaultTemplate, {
        trustDomain: 'example.org',
        environment: '..',
        service: 'payments',
      }),
    ).toThrow(InvalidSpiffeId);
  });

  it('refuses unknown placeholders', () => {
    expect(() =>
      renderSpiffeId('spiffe://{trustDomain}/{region}/{service}', {
        trustDomain: 'example.org',
        environment: 'prod',
        service: 'payments',
      }),
    ).toThrow(/unknown placeholder \{region\}/);
  });

  it('leaves checking the whole ID to parseSpiffeId, so one bad ID fails only its own item', () => {
    const long = renderSpiffeId(defaultTemplate, {
      trustDomain: 'example.org',
      environment: 'prod',
      service: 'x'.repeat(240),
    });
    expect(() => parseSpiffeId(long)).toThrow(/at most 253/);
  });
});
