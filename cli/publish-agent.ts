import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeployedStack } from './deployed-stack';

export const PUBLISH_AGENT_USAGE = `trust-bridge publish-agent --aws [options]
  Puts the sync agent's build (syncAgent.zip from \`npm run package\`) in the deployed stack's agent code bucket
  (output AgentCodeBucketName), under sync-agent/<sha256>.zip, and prints the AgentCodeBucket and AgentCodeKey
  to give the onboarding StackSet. The same build is put once: publishing it again changes nothing.

  --artifact FILE      the agent's zip (default: .serverless/syncAgent.zip)
  --aws                required: the bucket is the deployed stack's
  --stage S            the serverless stage deployed (default: dev)
  --stack NAME         the stack's name (default: trust-bridge-<stage>)
  --region R, --profile P
  --json               print JSON instead of text`;

const DEFAULT_ARTIFACT = '.serverless/syncAgent.zip';

export interface PublishedAgent {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  /** False when this very build was already there. */
  uploaded: boolean;
}

/** Puts one agent build under a key named by its digest, so a key always means the same code. */
export async function publishAgent(
  artifact: string,
  bucketOf: () => Promise<string>,
  s3: Pick<S3Client, 'send'>,
): Promise<PublishedAgent> {
  const body = await readFile(artifact).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new Error(`${artifact} does not exist: run \`npm run package\` first`);
    throw error;
  });
  const digest = createHash('sha256').update(body);
  const sha256 = digest.copy().digest('hex');
  const bucket = await bucketOf();
  const key = `sync-agent/${sha256.slice(0, 32)}.zip`;
  const published = { bucket, key, bytes: body.length, sha256 };
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { ...published, uploaded: false };
  } catch (error) {
    if ((error as { name?: string }).name !== 'NotFound') throw error;
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: 'application/zip',
      // S3 checks the bytes it stores against the digest.
      ChecksumSHA256: digest.digest('base64'),
    }),
  );
  return { ...published, uploaded: true };
}

/** `trust-bridge publish-agent --aws`. */
export async function publishAgentCommand(
  argv: string[],
  print: (line: string) => void = console.log,
  error: (line: string) => void = console.error,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        artifact: { type: 'string', default: DEFAULT_ARTIFACT },
        aws: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'dev' },
        stack: { type: 'string' },
        region: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (problem) {
    error(`${(problem as Error).message}\n\n${PUBLISH_AGENT_USAGE}`);
    return 2;
  }
  if (!values.aws) {
    error(
      `publish-agent needs --aws: the agent deploys from the central stack's bucket\n\n${PUBLISH_AGENT_USAGE}`,
    );
    return 2;
  }
  const stack = new DeployedStack({
    stage: values.stage,
    stackName: values.stack,
    region: values.region,
    profile: values.profile,
  });
  try {
    const published = await publishAgent(
      values.artifact,
      () => stack.output('AgentCodeBucketName'),
      new S3Client(stack.clientConfig),
    );
    if (values.json) {
      print(JSON.stringify(published));
    } else {
      const verb = published.uploaded ? 'published' : 'already published';
      print(`sync agent ${verb}: s3://${published.bucket}/${published.key} (${published.bytes} bytes)`);
      print(
        `onboarding parameters: ParameterKey=AgentCodeBucket,ParameterValue=${published.bucket} ` +
          `ParameterKey=AgentCodeKey,ParameterValue=${published.key}`,
      );
    }
    return 0;
  } catch (problem) {
    error(`publish-agent: ${(problem as Error).message}`);
    return 1;
  }
}
