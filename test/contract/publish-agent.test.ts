/**
 * `trust-bridge publish-agent --aws` puts the agent's build in the stack's agent code bucket, here a bucket in
 * moto: under a key its digest names, checked by S3, once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { publishAgent, publishAgentCommand } from '../../cli/publish-agent';
import { motoS3ClientConfig } from '../support/moto';

const s3 = () => new S3Client(motoS3ClientConfig());
const bucket = `agent-code-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'publish-agent-'));
const artifact = join(dir, 'syncAgent.zip');

beforeAll(async () => {
  await s3().send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('publish-agent', () => {
  it('puts a build once, under a key named by its digest, and a new build beside it', async () => {
    writeFileSync(artifact, 'build one');
    const first = await publishAgent(artifact, async () => bucket, s3());
    expect(first).toMatchObject({ bucket, uploaded: true, bytes: 9 });
    expect(first.key).toMatch(/^sync-agent\/[0-9a-f]{32}\.zip$/);
    const stored = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: first.key }));
    expect(await stored.Body?.transformToString()).toBe('build one');

    expect(await publishAgent(artifact, async () => bucket, s3())).toEqual({ ...first, uploaded: false });

    writeFileSync(artifact, 'build two');
    const second = await publishAgent(artifact, async () => bucket, s3());
    expect(second.key).not.toBe(first.key);
    const { Contents = [] } = await s3().send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(Contents.map((o) => o.Key).sort()).toEqual([first.key, second.key].sort());
  });

  it('says what to run when there is no build, and needs --aws', async () => {
    await expect(publishAgent(join(dir, 'missing.zip'), async () => bucket, s3())).rejects.toThrow(
      `${join(dir, 'missing.zip')} does not exist: run \`npm run package\` first`,
    );
    const errors: string[] = [];
    expect(
      await publishAgentCommand(
        [],
        () => undefined,
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(errors.join('\n')).toContain('publish-agent needs --aws');
  });
});
