/**
 * ListSecrets and BatchGetSecretValue: pages over the index of the files in a chosen order, with keyset
 * cursors as NextToken, so paging stays exact while secrets are created and deleted between pages.
 */
import {
  type BatchGetSecretValueCommandInput,
  type Filter,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  type ListSecretsCommandInput,
  ResourceNotFoundException,
  type SecretListEntry,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { compileFilters } from './filters';
import { metadataOf } from './lifecycle';
import { CURRENT, fail, type Secrets } from './secrets';
import { DamagedSecretFile, type StoredSecret } from './stored-secret';
import { getSecretValue, versionsToStages } from './versions';

const MAX_LIST_RESULTS = 100;
const MAX_BATCH = 20;

type SortBy = 'name' | 'created-date' | 'last-changed-date';

export function listSecrets(secrets: Secrets, input: ListSecretsCommandInput) {
  const max = input.MaxResults ?? MAX_LIST_RESULTS;
  if (!Number.isInteger(max) || max < 1 || max > MAX_LIST_RESULTS) {
    fail(InvalidParameterException, `MaxResults must be between 1 and ${MAX_LIST_RESULTS}.`);
  }
  const sortBy = (input.SortBy ?? 'created-date') as SortBy;
  if (!['name', 'created-date', 'last-changed-date'].includes(sortBy)) {
    fail(InvalidParameterException, `SortBy ${sortBy} is not supported here.`);
  }
  const found = page(secrets, {
    filters: input.Filters ?? [],
    max,
    nextToken: input.NextToken,
    includeDeleted: input.IncludePlannedDeletion ?? false,
    sortBy,
    descending: (input.SortOrder ?? 'desc') === 'desc',
  });
  const SecretList: SecretListEntry[] = found.secrets.map((s) => ({
    ...metadataOf(s),
    SecretVersionsToStages: versionsToStages(s),
  }));
  return { SecretList, ...(found.nextToken && { NextToken: found.nextToken }) };
}

/** By a list of ids (each missing or deleted one an entry in Errors), or by filters in pages. */
export function batchGetSecretValue(secrets: Secrets, input: BatchGetSecretValueCommandInput) {
  if (input.SecretIdList && input.Filters) {
    fail(InvalidParameterException, "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
  }
  if (input.SecretIdList) {
    if (input.MaxResults !== undefined) {
      fail(
        InvalidParameterException,
        "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.",
      );
    }
    if (input.SecretIdList.length < 1 || input.SecretIdList.length > MAX_BATCH) {
      fail(InvalidParameterException, `SecretIdList must hold between 1 and ${MAX_BATCH} secret IDs.`);
    }
    const SecretValues: SecretValueEntry[] = [];
    const Errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
    for (const id of input.SecretIdList) {
      try {
        SecretValues.push(getSecretValue(secrets, { SecretId: id }));
      } catch (error) {
        const perSecret =
          error instanceof ResourceNotFoundException ||
          error instanceof InvalidRequestException ||
          error instanceof DamagedSecretFile;
        if (!perSecret) throw error;
        Errors.push({ SecretId: id, ErrorCode: error.name, Message: error.message });
      }
    }
    return { SecretValues, Errors };
  }
  if (!input.Filters) fail(InvalidParameterException, "Either 'SecretIdList' or 'Filters' must be provided.");
  const max = input.MaxResults ?? MAX_BATCH;
  if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
    fail(InvalidParameterException, `MaxResults must be between 1 and ${MAX_BATCH}.`);
  }
  const found = page(secrets, {
    filters: input.Filters ?? [],
    max,
    nextToken: input.NextToken,
    includeDeleted: false,
    sortBy: 'created-date',
    descending: true,
  });
  return {
    SecretValues: found.secrets
      .filter((s) => s.versions.some((v) => v.stages.includes(CURRENT)))
      .map((s) => getSecretValue(secrets, { SecretId: s.name })),
    Errors: [],
    ...(found.nextToken && { NextToken: found.nextToken }),
  };
}

function page(
  secrets: Secrets,
  query: {
    filters: Filter[];
    max: number;
    nextToken: string | undefined;
    includeDeleted: boolean;
    sortBy: SortBy;
    descending: boolean;
  },
): { secrets: StoredSecret[]; nextToken?: string } {
  const matches = compileFilters(query.filters);
  const order = `${query.sortBy}:${query.descending}`;
  const compare = comparator(query.sortBy, query.descending);
  const all = secrets.files.listed(order, compare);
  let start = 0;
  if (query.nextToken !== undefined) {
    const after = decodeCursor(query.nextToken, order);
    start = firstAfter(all, after, compare);
  }
  const found: StoredSecret[] = [];
  let i = start;
  for (; i < all.length && found.length < query.max; i++) {
    const candidate = all[i] as StoredSecret;
    if (candidate.deletedDate && !query.includeDeleted) continue;
    if (!matches(candidate)) continue;
    const live = secrets.unlessPurged(candidate);
    if (live) found.push(live);
  }
  const last = found.at(-1);
  // A NextToken only "if there's more output available" (ListSecrets API reference): a full page whose store holds
  // nothing else that matches ends the listing.
  const more = last !== undefined && found.length === query.max && anotherMatch(all, i, query, matches);
  return { secrets: found, ...(more && { nextToken: encodeCursor(last, order) }) };
}

const anotherMatch = (
  all: StoredSecret[],
  from: number,
  query: { includeDeleted: boolean },
  matches: (s: StoredSecret) => boolean,
): boolean => all.slice(from).some((s) => (query.includeDeleted || !s.deletedDate) && matches(s));

function sortKey(secret: StoredSecret, by: SortBy): string {
  if (by === 'name') return secret.name;
  return by === 'created-date' ? secret.createdDate : secret.lastChangedDate;
}

function comparator(by: SortBy, descending: boolean): (a: StoredSecret, b: StoredSecret) => number {
  const sign = descending ? -1 : 1;
  return (a, b) => {
    const byKey = compareStrings(sortKey(a, by), sortKey(b, by));
    return sign * (byKey !== 0 ? byKey : compareStrings(a.name, b.name));
  };
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first secret sorted after the cursor (keyset paging: stable under inserts and deletes). */
function firstAfter(
  all: StoredSecret[],
  after: StoredSecret,
  compare: (a: StoredSecret, b: StoredSecret) => number,
): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compare(all[mid] as StoredSecret, after) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function encodeCursor(last: StoredSecret, order: string): string {
  const cursor = {
    order,
    name: last.name,
    createdDate: last.createdDate,
    lastChangedDate: last.lastChangedDate,
  };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string, order: string): StoredSecret {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { name, createdDate, lastChangedDate } = cursor;
    if (
      cursor.order === order &&
      typeof name === 'string' &&
      typeof createdDate === 'string' &&
      typeof lastChangedDate === 'string'
    ) {
      return { name, arn: '', tags: [], createdDate, lastChangedDate, versions: [] };
    }
  } catch {
    // falls through to the error below
  }
  return fail(InvalidNextTokenException, 'The NextToken value is invalid.');
}
