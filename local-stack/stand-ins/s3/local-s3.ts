/**
 * The stand-in for the SDK's S3Client: `send` takes the SDK's own commands (GetObject, PutObject, HeadObject,
 * ListObjectsV2, DeleteObject, CreateBucket) and answers in the SDK's shapes, errors included (NoSuchKey,
 * NoSuchBucket, NotFound, each with `$metadata.httpStatusCode`), over files at `<dataDir>/s3/<bucket>/<key>`.
 * The engine's Distributed Map reads and writes through it, and so can the functions, with no change of code.
 * Only the content is kept: not the content type nor user metadata.
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { listObjectsV2 } from './listing';
import { ObjectFiles } from './object-files';

export type S3Api = Pick<S3Client, 'send'>;

const answer = <T extends object>(output: T, httpStatusCode = 200) => ({
  ...output,
  $metadata: { httpStatusCode },
});

/** A GetObject Body as the SDK gives it in Node: a readable stream with the SDK's transform helpers. */
const bodyOf = (content: Buffer) =>
  Object.assign(Readable.from([content]), {
    transformToString: async (encoding: BufferEncoding = 'utf-8') => content.toString(encoding),
    transformToByteArray: async () => new Uint8Array(content),
    transformToWebStream: () => Readable.toWeb(Readable.from([content])),
  });

/** PutObject accepts a string, bytes or a readable stream, as the SDK does. */
const bytesOf = async (body: unknown): Promise<Buffer> => {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new TypeError('LocalS3 PutObject takes a string, bytes or a Readable as Body');
};

export class LocalS3 {
  readonly send: S3Api['send'] = ((command: unknown) => this.handle(command)) as unknown as S3Api['send'];

  private readonly files: ObjectFiles;

  /** Opens `<dataDir>/s3/`; `buckets` are created if missing (a bucket is otherwise made with CreateBucket). */
  constructor(options: { dataDir: string; buckets?: string[] }) {
    this.files = new ObjectFiles(options.dataDir);
    for (const bucket of options.buckets ?? []) this.files.createBucket(bucket);
  }

  private async handle(c: unknown): Promise<object> {
    if (c instanceof CreateBucketCommand) {
      this.files.createBucket(c.input.Bucket!);
      return answer({ Location: `/${c.input.Bucket}` });
    }
    if (c instanceof GetObjectCommand) return this.getObject(c.input.Bucket!, c.input.Key!);
    if (c instanceof HeadObjectCommand) return this.headObject(c.input.Bucket!, c.input.Key!);
    if (c instanceof PutObjectCommand) {
      this.requireBucket(c.input.Bucket!);
      const ETag = await this.files.write(c.input.Bucket!, c.input.Key!, await bytesOf(c.input.Body));
      return answer({ ETag });
    }
    if (c instanceof DeleteObjectCommand) {
      this.requireBucket(c.input.Bucket!);
      await this.files.remove(c.input.Bucket!, c.input.Key!);
      return answer({}, 204);
    }
    if (c instanceof ListObjectsV2Command) {
      this.requireBucket(c.input.Bucket!);
      return answer(await listObjectsV2(this.files, c.input));
    }
    const name = (c as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof c;
    throw new Error(`LocalS3 does not implement ${name}`);
  }

  private async getObject(bucket: string, key: string) {
    this.requireBucket(bucket);
    const content = await this.files.read(bucket, key);
    if (!content) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    const object = (await this.files.describe(bucket, key, content))!;
    return answer({
      Body: bodyOf(content),
      ContentLength: object.size,
      ETag: object.etag,
      LastModified: object.lastModified,
    });
  }

  private async headObject(bucket: string, key: string) {
    const object = this.files.bucketExists(bucket) ? await this.files.describe(bucket, key) : undefined;
    // HEAD answers carry no body, so the SDK names a missing object (or bucket) by its status only.
    if (!object) throw new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });
    return answer({ ContentLength: object.size, ETag: object.etag, LastModified: object.lastModified });
  }

  private requireBucket(bucket: string) {
    if (!this.files.bucketExists(bucket)) {
      throw new NoSuchBucket({
        message: 'The specified bucket does not exist',
        $metadata: { httpStatusCode: 404 },
      });
    }
  }
}
