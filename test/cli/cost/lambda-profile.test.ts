import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from '@jest/globals';
import { LAMBDA_PROFILE } from '../../../cli/cost/lambda-profile';
import { readCloudFormationYaml } from '../../support/cloudformation-yaml';
import { onboardingTemplate } from '../../support/onboarding';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

it('has each step, as deployed: the memory serverless.yml and the onboarding template give it', () => {
  const stack = readCloudFormationYaml(root('serverless.yml')) as unknown as {
    provider: { memorySize: number };
    functions: Record<string, { handler: string; memorySize?: number }>;
  };
  const deployed = Object.fromEntries(
    Object.values(stack.functions).map((fn) => [
      /^functions\/([^/]+)\/handler\.handler$/.exec(fn.handler)?.[1],
      fn.memorySize ?? stack.provider.memorySize,
    ]),
  );
  const agent = onboardingTemplate.Resources.SyncAgentFunction?.Properties as { MemorySize: number };
  deployed['sync-agent'] = agent.MemorySize;
  const steps = Object.entries(
    JSON.parse(readFileSync(root('statemachines/steps.json'), 'utf8')) as Record<string, string>,
  ).filter(([key]) => !key.startsWith('$'));
  const profiled = Object.fromEntries(Object.entries(LAMBDA_PROFILE).map(([step, p]) => [step, p.memoryMb]));
  // Every step the workflows run, and the webhook receiver; the expiry watcher runs apart from the fleet's work.
  const { 'watch-svid-expiry': _, ...priced } = deployed;
  expect(profiled).toEqual(priced);
  for (const [, step] of steps) expect(Object.keys(profiled)).toContain(step);
});
