import type { S3Client } from '@aws-sdk/client-s3';
import { TaskFailure } from '../task-binding';

/**
 * What the engine needs of S3: the SDK client's `send`, given GetObjectCommand and PutObjectCommand. A real
 * S3Client satisfies it on AWS; the local stack passes its file-backed stand-in, so the functions can share it.
 */
export type S3Api = Pick<S3Client, 'send'>;

/** How an S3 error reads in a Cause: the SDK error's name and message, and the HTTP status when it has one. */
export const describeS3Error = (thrown: unknown): string => {
  if (!(thrown instanceof Error)) return String(thrown);
  const status = (thrown as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${thrown.name}: ${thrown.message}${status ? ` (Service: S3, Status Code: ${status})` : ''}`;
};

/** A Map Run step that failed, under the error name AWS gives it (catchable, as any Map state error). */
export const mapRunFailure = (error: string, cause: string) => new TaskFailure(error, cause);
