import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { LocalS3 } from '../../../../local-stack/stand-ins/s3/local-s3';

const BUCKET = 'plans';

let dataDir: string;
let s3: LocalS3;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-s3-'));
  s3 = new LocalS3({ dataDir, buckets: [BUCKET] });
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const put = (Key: string, Body: string | Uint8Array | Readable = 'x') =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));

const text = async (Key: string, Bucket = BUCKET) => {
  const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return object.Body!.transformToString();
};

const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode: number } };
  }
  throw new Error('the call succeeded');
};

const listAll = async (options: { Prefix?: string; MaxKeys?: number } = {}) => {
  const keys: string[] = [];
  const pages: number[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ...options, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    pages.push(page.KeyCount!);
    ContinuationToken = page.NextContinuationToken;
    expect(page.IsTruncated).toBe(ContinuationToken !== undefined);
  } while (ContinuationToken);
  return { keys, pages };
};

describe('objects', () => {
  test('PutObject keeps the content at <dataDir>/s3/<bucket>/<key>; GetObject gives it back as the SDK does', async () => {
    const put1 = await put('runs/r1/plan.json', '[{"accountId":"1"}]');

    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/plan.json' }));

    const md5 = createHash('md5').update('[{"accountId":"1"}]').digest('hex');
    expect(put1).toMatchObject({ ETag: `"${md5}"`, $metadata: { httpStatusCode: 200 } });
    expect(object).toMatchObject({ ContentLength: 19, ETag: `"${md5}"`, LastModified: expect.any(Date) });
    expect(await object.Body!.transformToString()).toBe('[{"accountId":"1"}]');
    expect(readFileSync(join(dataDir, 's3', BUCKET, 'runs', 'r1', 'plan.json'), 'utf8')).toBe(
      '[{"accountId":"1"}]',
    );
  });

  test('the Body is also bytes and a readable stream; PutObject takes bytes and streams', async () => {
    await put('bytes', new Uint8Array([1, 2, 3]));
    await put('stream', Readable.from([Buffer.from('ab'), Buffer.from('c')]));

    const bytes = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'bytes' }));
    const stream = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stream' }));

    expect([...(await bytes.Body!.transformToByteArray())]).toEqual([1, 2, 3]);
    const chunks: Buffer[] = [];
    for await (const chunk of stream.Body as Readable) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });

  test('a 10 MB object goes in and out whole', async () => {
    const big = 'a'.repeat(10 * 1024 * 1024 + 7);
    await put('big.txt', big);

    expect(await text('big.txt')).toBe(big);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big.txt' }));
    expect(head.ContentLength).toBe(big.length);
  });

  test('keys a file system cannot hold as they are round-trip: dots, empty parts, percent signs', async () => {
    const keys = ['../escape', '.hidden', 'folder/', 'a//b', 'sp ace/100%', 'x/./y'];
    for (const key of keys) await put(key, key);

    for (const key of keys) expect(await text(key)).toBe(key);
    expect((await listAll()).keys).toEqual([...keys].sort());
    expect(existsSync(join(dataDir, 'escape'))).toBe(false);
  });

  test('PutObject replaces an object; DeleteObject removes it, and deleting a missing key succeeds', async () => {
    await put('k', 'one');
    await put('k', 'two');
    expect(await text('k')).toBe('two');

    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k' }));
    const again = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k' }));

    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect((await failure(text('k'))).name).toBe('NoSuchKey');
  });

  test('a second instance over the same directory sees every write', async () => {
    const other = new LocalS3({ dataDir });
    await put('shared', 'v1');

    const object = await other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared' }));

    expect(await object.Body!.transformToString()).toBe('v1');
  });
});

describe('errors shaped like the SDK', () => {
  test('GetObject of a missing key: NoSuchKey, 404', async () => {
    const error = await failure(text('nothing'));
    expect(error).toBeInstanceOf(NoSuchKey);
    expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  test('HeadObject of a missing key or bucket: NotFound, 404 (a HEAD answer has no body to say more)', async () => {
    for (const Bucket of [BUCKET, 'nobody']) {
      const error = await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'nothing' })));
      expect(error).toBeInstanceOf(NotFound);
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
  });

  test.each([
    ['GetObject', () => new GetObjectCommand({ Bucket: 'nobody', Key: 'k' })],
    ['PutObject', () => new PutObjectCommand({ Bucket: 'nobody', Key: 'k', Body: 'x' })],
    ['DeleteObject', () => new DeleteObjectCommand({ Bucket: 'nobody', Key: 'k' })],
    ['ListObjectsV2', () => new ListObjectsV2Command({ Bucket: 'nobody' })],
  ])('%s in a missing bucket: NoSuchBucket, 404', async (_, command) => {
    const error = await failure(s3.send(command() as never));
    expect(error).toBeInstanceOf(NoSuchBucket);
    expect(error).toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
  });
});

describe('ListObjectsV2', () => {
  test('pages through the keys under a prefix in key order, with continuation tokens', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `runs/r1/${String(i).padStart(2, '0')}.json`);
    for (const key of [...keys].reverse()) await put(key);
    await put('runs/r10/other.json');
    await put('plans/p.json');

    const listed = await listAll({ Prefix: 'runs/r1/', MaxKeys: 3 });

    expect(listed).toEqual({ keys, pages: [3, 3, 1] });
  });

  test('gives Size, ETag and LastModified of each object and starts after StartAfter', async () => {
    await put('a', 'aaa');
    await put('b', 'bb');

    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'a' }));

    expect(page).toMatchObject({ KeyCount: 1, IsTruncated: false, MaxKeys: 1000 });
    expect(page.Contents).toEqual([
      {
        Key: 'b',
        Size: 2,
        ETag: `"${createHash('md5').update('bb').digest('hex')}"`,
        LastModified: expect.any(Date),
        StorageClass: 'STANDARD',
      },
    ]);
  });

  test('lists in UTF-8 byte order, as S3 does', async () => {
    const keys = ['\u{1F600}', '\uFF21', 'a'];
    for (const key of keys) await put(key);

    expect((await listAll()).keys).toEqual(['a', '\uFF21', '\u{1F600}']);
  });
});

describe('atomic writes', () => {
  const deadPid = async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    return child.pid!;
  };

  test('a write leaves no temporary file, and none is listed while one is under way', async () => {
    await put('runs/plan.json', 'x');
    writeFileSync(
      join(dataDir, 's3', BUCKET, 'runs', `.plan.json.${process.pid}.0123456789ab.tmp`),
      'partial',
    );

    expect((await listAll()).keys).toEqual(['runs/plan.json']);
    expect(readdirSync(join(dataDir, 's3', BUCKET, 'runs')).filter((f) => f.endsWith('.tmp'))).toHaveLength(
      1,
    );
  });

  test('opening the store removes what a writer that is gone left unfinished, in any folder', async () => {
    await put('runs/r1/plan.json', 'x');
    const folder = join(dataDir, 's3', BUCKET, 'runs', 'r1');
    const leftover = join(folder, `.plan.json.${await deadPid()}.0123456789ab.tmp`);
    writeFileSync(leftover, 'half a plan');

    new LocalS3({ dataDir });

    expect(existsSync(leftover)).toBe(false);
    expect(await text('runs/r1/plan.json')).toBe('x');
  });
});
