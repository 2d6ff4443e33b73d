import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Api } from '../../aws/clients';
import type { RunFile } from '../../domain/run-files';
import type { RunFiles } from './run-files';

/** A run's files as objects of one S3 bucket (encrypted at rest, expired by the bucket's lifecycle rule). */
export class S3RunFiles implements RunFiles {
  constructor(
    private readonly client: S3Api,
    private readonly bucket: string,
  ) {}

  async write(key: string, document: unknown): Promise<RunFile> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(document),
        ContentType: 'application/json',
      }),
    );
    return { bucket: this.bucket, key };
  }

  async read(key: string): Promise<unknown> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString('utf-8')) ?? '');
  }
}
