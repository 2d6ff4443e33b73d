import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** What the simulation takes from the stack as it deploys: serverless.yml, and the onboarding template's agent. */
interface ServerlessManifest {
  params: { default: Record<string, string> };
  provider: { memorySize: number };
  functions: Record<string, { handler: string; memorySize?: number }>;
}

const read = (path: string): unknown =>
  // CloudFormation's short tags (!Ref) are not YAML's: nothing read here uses them.
  parse(readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8'), { logLevel: 'error' });

const manifest = () => read('../../serverless.yml') as ServerlessManifest;

/** The variables a deployed stack's functions get from serverless.yml's default parameters. */
export const deployedParameters = (): Record<string, string> => {
  const p = manifest().params.default;
  return {
    RENEW_BEFORE_HOURS: String(p.renewBeforeHours),
    CHUNK_SIZE: String(p.chunkSize),
    ACCOUNT_CONCURRENCY: String(p.accountConcurrency),
    CHUNK_CONCURRENCY: String(p.chunkConcurrency),
    SYNC_CHUNK_SIZE: String(p.syncChunkSize),
    SYNC_ACCOUNT_CONCURRENCY: String(p.syncAccountConcurrency),
  };
};

/** Each step's memory (MB) as deployed: its function in serverless.yml, the sync agent in each enrolled account. */
export const deployedMemoryMb = (): Record<string, number> => {
  const stack = manifest();
  const memory: Record<string, number> = {};
  for (const fn of Object.values(stack.functions)) {
    const step = /^functions\/([^/]+)\/handler\.handler$/.exec(fn.handler)?.[1];
    if (step) memory[step] = fn.memorySize ?? stack.provider.memorySize;
  }
  const onboarding = read('../../infra/onboarding.yml') as {
    Resources: Record<string, { Type: string; Properties?: { MemorySize?: number } }>;
  };
  const agent = Object.values(onboarding.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  memory['sync-agent'] = agent?.Properties?.MemorySize ?? stack.provider.memorySize;
  return memory;
};
