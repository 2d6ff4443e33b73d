import type { ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import { compareKeys, type ObjectFiles } from './object-files';

/** S3 answers at most 1,000 keys a page, and that many when MaxKeys is not given. */
const MAX_KEYS = 1_000;

/** The continuation token is the last key of the page, opaque to the caller as S3's is. */
const tokenOf = (key: string) => Buffer.from(key, 'utf8').toString('base64url');
const keyOfToken = (token: string) => Buffer.from(token, 'base64url').toString('utf8');

/**
 * ListObjectsV2 over the files: keys under Prefix, after StartAfter or the ContinuationToken's key, in S3's key
 * order, a page of MaxKeys (at most 1,000) with NextContinuationToken when more follow. Delimiter (CommonPrefixes)
 * is not implemented and is refused.
 */
export const listObjectsV2 = async (files: ObjectFiles, input: ListObjectsV2CommandInput) => {
  if (input.Delimiter !== undefined) throw new Error('LocalS3 ListObjectsV2 does not implement Delimiter');
  const prefix = input.Prefix ?? '';
  const maxKeys = Math.min(input.MaxKeys ?? MAX_KEYS, MAX_KEYS);
  const after =
    input.ContinuationToken !== undefined ? keyOfToken(input.ContinuationToken) : input.StartAfter;
  const all = files.list(input.Bucket!, prefix);
  const remaining = after === undefined ? all : all.filter((object) => compareKeys(object.key, after) > 0);
  const page = remaining.slice(0, maxKeys);
  const truncated = remaining.length > page.length;
  const contents = await Promise.all(
    page.map(async (object) => {
      const described = await files.describe(input.Bucket!, object.key);
      return {
        Key: object.key,
        LastModified: object.lastModified,
        ETag: described?.etag ?? '',
        Size: object.size,
        StorageClass: 'STANDARD' as const,
      };
    }),
  );
  return {
    Name: input.Bucket,
    Prefix: prefix,
    MaxKeys: maxKeys,
    KeyCount: contents.length,
    IsTruncated: truncated,
    ...(contents.length > 0 ? { Contents: contents } : {}),
    ...(input.ContinuationToken !== undefined ? { ContinuationToken: input.ContinuationToken } : {}),
    ...(input.StartAfter !== undefined ? { StartAfter: input.StartAfter } : {}),
    ...(truncated ? { NextContinuationToken: tokenOf(page.at(-1)!.key) } : {}),
  };
};
