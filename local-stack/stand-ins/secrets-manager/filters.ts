/**
 * ListSecrets' and BatchGetSecretValue's filters as Secrets Manager matches them: name and tags by
 * case-sensitive prefix, description and `all` word by word, `!` negating a value.
 */
import { type Filter, InvalidParameterException } from '@aws-sdk/client-secrets-manager';
import { fail } from './secrets';
import type { StoredSecret } from './stored-secret';

const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]{0,512}$/;

/** Values within a filter are alternatives; filters must all match. */
export function compileFilters(filters: Filter[]): (secret: StoredSecret) => boolean {
  const tests = filters.map((filter) => {
    const values = filter.Values ?? [];
    if (values.length < 1 || values.length > 10 || values.some((v) => !FILTER_VALUE.test(v))) {
      fail(InvalidParameterException, `Invalid filter values for key ${filter.Key}.`);
    }
    const attributes = attributesFor(filter.Key);
    return (secret: StoredSecret) =>
      values.some((raw) => {
        const negated = raw.startsWith('!');
        const pattern = negated ? raw.slice(1) : raw;
        const found = attributes.match(attributes.of(secret), pattern);
        return negated ? !found : found;
      });
  });
  return (secret) => tests.every((test) => test(secret));
}

function attributesFor(key: string | undefined): {
  of: (s: StoredSecret) => string[];
  match: (values: string[], pattern: string) => boolean;
} {
  const prefix = (values: string[], pattern: string) => values.some((v) => v.startsWith(pattern));
  switch (key) {
    case 'name':
      return { of: (s) => [s.name], match: prefix };
    case 'tag-key':
      return { of: (s) => s.tags.map((t) => t.Key), match: prefix };
    case 'tag-value':
      return { of: (s) => s.tags.map((t) => t.Value), match: prefix };
    case 'description':
      return { of: (s) => (s.description ? [s.description] : []), match: wordsMatch };
    case 'all':
      return {
        of: (s) => [
          s.name,
          ...(s.description ? [s.description] : []),
          ...s.tags.flatMap((t) => [t.Key, t.Value]),
        ],
        match: wordsMatch,
      };
    case 'primary-region':
    case 'owning-service':
      // Local secrets are neither replicated nor managed by another service.
      return { of: () => [], match: prefix };
    default:
      return fail(InvalidParameterException, `Invalid filter key: ${key}.`);
  }
}

/** Every word of the pattern starts some word of the values, case-insensitively. */
function wordsMatch(values: string[], pattern: string): boolean {
  const wanted = words(pattern);
  const have = values.flatMap(words);
  return wanted.length > 0 && wanted.every((w) => have.some((h) => h.startsWith(w)));
}

function words(text: string): string[] {
  return (text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []).map((w) => w.toLowerCase());
}
