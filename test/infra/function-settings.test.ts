/**
 * Each deployed function's environment, as the packaged central template and the onboarding template give it,
 * against that function's own settings schema (functions/<step>/<step>.ts `settings`): every variable set is one
 * the function reads, every variable it needs without a default is set, and the values pass its checks. A variable
 * renamed in one place and not the other fails here.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../functions/shared/config';
import { resolveStack, type ResolvedStack } from '../support/intrinsics';
import { onboardingTemplate, renderOnboarding } from '../support/onboarding';
import { type CfnTemplate, packageStack } from '../support/packaged-stack';

const CENTRAL = '999988887777';
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
/** Set by the runtime or the stack for Node itself, not read through a settings schema. */
const NOT_SETTINGS = new Set(['NODE_OPTIONS']);

interface DeployedFunction {
  logicalId: string;
  /** functions/<folder>/handler.handler */
  folder: string;
  environment: Record<string, string>;
}

type Schema = { shape: Record<string, { safeParse(value: unknown): { success: boolean } }> };

const settingsOf = async (folder: string): Promise<Schema> =>
  ((await import(`../../functions/${folder}/${folder}`)) as { settings: Schema }).settings;

const functionsOf = (template: CfnTemplate, stack: ResolvedStack): DeployedFunction[] =>
  Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id in stack.resources)
    .map(([logicalId, resource]) => {
      // Only what is read here: the code's location is the deployment bucket's business.
      const properties = {
        Handler: stack.resolve(resource.Properties.Handler as string) as string,
        Environment: stack.resolve(resource.Properties.Environment ?? {}) as {
          Variables?: Record<string, string>;
        },
      };
      const folder = /^functions\/([\w-]+)\/handler\.handler$/.exec(properties.Handler)?.[1];
      if (!folder)
        throw new Error(`${logicalId}: handler ${properties.Handler} is not functions/<step>/handler`);
      return { logicalId, folder, environment: properties.Environment?.Variables ?? {} };
    });

/** What is wrong with a function's environment against its schema: nothing, when they agree. */
const disagreements = (fn: DeployedFunction, schema: Schema): string[] => {
  const declared = new Set(Object.keys(schema.shape));
  const set = Object.keys(fn.environment).filter((name) => !NOT_SETTINGS.has(name));
  const unknown = set.filter((name) => !declared.has(name)).map((name) => `${name} is set but never read`);
  const missing = [...declared]
    // Lambda sets AWS_REGION itself; a variable with a default may be left out.
    .filter((name) => name !== 'AWS_REGION' && !(name in fn.environment))
    .filter((name) => !schema.shape[name]!.safeParse(undefined).success)
    .map((name) => `${name} is read but not set`);
  const problems = [...unknown, ...missing].map((p) => `${fn.logicalId}: ${p}`);
  if (problems.length > 0) return problems;
  try {
    loadConfig(fn.folder, schema as never, { ...fn.environment, AWS_REGION: REGION });
  } catch (error) {
    return [`${fn.logicalId}: ${(error as Error).message}`];
  }
  return [];
};

describe('the central stack', () => {
  let functions: DeployedFunction[];
  beforeAll(async () => {
    const { template } = await packageStack();
    functions = functionsOf(template, resolveStack(template, { accountId: CENTRAL, region: REGION }));
  }, 300_000);

  it('gives every function exactly the variables its settings schema declares, with valid values', async () => {
    expect(functions.map((f) => f.folder).sort()).toEqual(
      expect.arrayContaining(['issue-svid', 'plan-rotation', 'receive-webhook', 'report-outcomes']),
    );
    const problems = [];
    for (const fn of functions) problems.push(...disagreements(fn, await settingsOf(fn.folder)));
    expect(problems).toEqual([]);
  });

  it('sets no AWS_REGION, which Lambda sets', () => {
    for (const fn of functions) expect(fn.environment).not.toHaveProperty('AWS_REGION');
  });

  it('fails when a variable is renamed in the template but not in the schema, or the reverse', async () => {
    const issueSvid = functions.find((f) => f.folder === 'issue-svid')!;
    const { CA_ARN, ...rest } = issueSvid.environment;
    const renamed = { ...issueSvid, environment: { ...rest, CA_ARM: CA_ARN! } };
    expect(disagreements(renamed, await settingsOf('issue-svid'))).toEqual([
      'IssueSvidLambdaFunction: CA_ARM is set but never read',
      'IssueSvidLambdaFunction: CA_ARN is read but not set',
    ]);
    const malformed = { ...issueSvid, environment: { ...issueSvid.environment, CA_ARN: 'my-ca' } };
    expect(disagreements(malformed, await settingsOf('issue-svid'))).toEqual([
      expect.stringMatching(/^IssueSvidLambdaFunction: issue-svid: invalid configuration: CA_ARN: /),
    ]);
  });
});

describe('the onboarding template', () => {
  const template = onboardingTemplate;
  const stack = renderOnboarding({ central: CENTRAL, account: ACCOUNT, region: REGION });

  it("gives the sync agent exactly the variables the agent's schema declares, with valid values", async () => {
    const functions = functionsOf(template, stack);
    expect(functions.map((f) => f.folder)).toEqual(['sync-agent']);
    expect(disagreements(functions[0]!, await settingsOf('sync-agent'))).toEqual([]);
    expect(functions[0]!.environment).not.toHaveProperty('AWS_REGION');
  });
});
