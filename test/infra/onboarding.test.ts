/**
 * infra/onboarding.yml, the stack each enrolled account deploys: it passes @aws/cloudformation-validate, it agrees
 * with serverless.yml and the functions' configuration on every shared name, its roles grant no wildcard beyond the
 * documented ones, the invoker role trusts the central sync chunk role alone, and the agent's environment gives the
 * agent every setting it reads. Who may do what across accounts is proven in least-privilege.test.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { LOCAL_ENV } from '../../local-stack/local-config';
import { readCloudFormationYaml } from '../support/cloudformation-yaml';
import type { ResolvedStack } from '../support/intrinsics';
import {
  ONBOARDING_TEMPLATE_PATH as templatePath,
  onboardingTemplate as template,
  renderOnboarding,
  requiredOnboardingParameters,
} from '../support/onboarding';
import type { CfnTemplate } from '../support/packaged-stack';
import { blocking, validateTemplate } from '../support/template-validation';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

const CENTRAL = '999988887777';
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
/** The parameters without a default: what the central stack's outputs and the operator provide. */
const required = requiredOnboardingParameters(CENTRAL, REGION);
const ownKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;
/** Keywhiz's CA, as a deployer gives it (any PEM certificate: the template does not parse it). */
const keywhizCa = {
  KeywhizServerCaPem: `-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU${'A'.repeat(40)}\n-----END CERTIFICATE-----\n`,
};

const render = (parameters: Record<string, string> = {}): ResolvedStack =>
  renderOnboarding({ central: CENTRAL, account: ACCOUNT, region: REGION }, parameters);

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type PolicyDocument = { Statement: Statement[] };
const list = <T>(value: T | T[]): T[] => [value].flat() as T[];

describe('validation', () => {
  it.each([
    ['a key created for synced secrets', {}],
    ["the account's own key for synced secrets", { SyncedSecretsKeyArn: ownKey }],
  ])("finds no FATAL or ERROR, with %s and Keywhiz's CA", async (_, parameters) => {
    const findings = await validateTemplate(templatePath, {
      parameters: { ...required, ...keywhizCa, ...parameters },
    });
    expect(blocking(findings)).toEqual([]);
  });

  it("without Keywhiz's CA, flags only the branch CloudFormation never takes (the secret is created empty)", async () => {
    // The validator checks both branches of the Fn::If; with the parameter empty, CloudFormation takes the
    // AWS::NoValue one (see "Keywhiz's own CA" below), so no empty SecretString is ever sent.
    const findings = await validateTemplate(templatePath, { parameters: required });
    expect(blocking(findings)).toEqual([
      expect.objectContaining({
        severity: 'FATAL',
        logicalId: 'KeywhizServerCaSecret',
        propertyPath: 'Properties.SecretString',
        message: 'length 0 is below minimum 1',
      }),
    ]);
  });

  it('catches a broken copy, so a pass means something', async () => {
    const broken = structuredClone(template);
    delete (broken.Resources.SyncInvokerRole as { Properties: Record<string, unknown> }).Properties
      .AssumeRolePolicyDocument;
    const findings = blocking(await validateTemplate(broken, { parameters: { ...required, ...keywhizCa } }));
    expect(findings).toEqual([expect.objectContaining({ severity: 'FATAL', logicalId: 'SyncInvokerRole' })]);
  });

  it('every parameter without a default is one the deployer must give', () => {
    const withoutDefault = Object.entries(template.Parameters ?? {})
      .filter(([, p]) => p.Default === undefined)
      .map(([name]) => name)
      .sort();
    expect(withoutDefault).toEqual(Object.keys(required).sort());
  });
});

describe('names shared with the central stack and the functions', () => {
  const serverless = readCloudFormationYaml(path('../../serverless.yml')) as unknown as {
    params: { default: Record<string, string> };
    custom: { svidNaming: Record<string, string> };
  };
  const central = serverless.params.default;
  // The embedded default uses the same names, so what runs at home is what deploys.
  const config = LOCAL_ENV;
  const defaultOf = (name: string) => (template as CfnTemplate).Parameters?.[name]?.Default;

  it('agree with serverless.yml params and the local stack', () => {
    expect(defaultOf('SyncAgentFunctionName')).toBe(central.syncAgentFunctionName);
    expect(defaultOf('SyncAgentFunctionName')).toBe(config.SYNC_AGENT_FUNCTION_NAME);
    expect(defaultOf('SyncInvokerRoleName')).toBe(central.syncInvokerRoleName);
    expect(defaultOf('SyncInvokerRoleName')).toBe(config.SYNC_INVOKER_ROLE_NAME);
    expect(defaultOf('SvidSecretPrefix')).toBe(central.svidSecretPrefix);
    expect(defaultOf('TrustDomain')).toBe(central.trustDomain);
    expect(defaultOf('SpiffeIdTemplate')).toBe(serverless.custom.svidNaming.SPIFFE_ID_TEMPLATE);
    expect(defaultOf('SyncSecretPrefix')).toBe(config.SYNC_SECRET_PREFIX);
    expect(render().properties('KeywhizServerCaSecret').Name).toBe(config.KEYWHIZ_SERVER_CA_SECRET);
  });

  it('name the agent role as rotation adds it to the SVID readers (central SYNC_AGENT_ROLE_NAME)', () => {
    // The central functions take it from serverless.yml's param.
    const centralRoleName = central.syncAgentRoleName;
    expect(centralRoleName).toBe(config.SYNC_AGENT_ROLE_NAME);
    expect(defaultOf('SyncAgentRoleName')).toBe(centralRoleName);
    expect(render().properties('SyncAgentRole').RoleName).toBe(centralRoleName);
  });

  it('deploy the agent where the sync chunk workflow invokes it, with the role it assumes', () => {
    const stack = render();
    expect(stack.getAtt('SyncAgentFunction', 'Arn')).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${central.syncAgentFunctionName}`,
    );
    expect(stack.getAtt('SyncInvokerRole', 'Arn')).toBe(
      `arn:aws:iam::${ACCOUNT}:role/${central.syncInvokerRoleName}`,
    );
    expect(stack.output('SyncAgentFunctionArn')).toBe(stack.getAtt('SyncAgentFunction', 'Arn'));
    expect(stack.output('SyncInvokerRoleArn')).toBe(stack.getAtt('SyncInvokerRole', 'Arn'));
    expect(stack.output('SyncAgentRoleArn')).toBe(stack.getAtt('SyncAgentRole', 'Arn'));
  });

  it('run the bundled agent as serverless.yml builds the functions', () => {
    const fn = render().properties('SyncAgentFunction');
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'functions/sync-agent/handler.handler',
      Role: `arn:aws:iam::${ACCOUNT}:role/${config.SYNC_AGENT_ROLE_NAME}`,
      LoggingConfig: { LogGroup: `/aws/lambda/${central.syncAgentFunctionName}` },
    });
    expect(existsSync(path('../../functions/sync-agent/handler.ts'))).toBe(true);
  });
});

describe('trust and wildcards', () => {
  const roles = (stack: ResolvedStack) =>
    Object.entries(stack.resources)
      .filter(([, type]) => type === 'AWS::IAM::Role')
      .map(([id]) => [id, stack.properties(id)] as const);

  it('the invoker role trusts the central sync chunk role and nothing else', () => {
    const trust = render().properties('SyncInvokerRole').AssumeRolePolicyDocument as PolicyDocument;
    expect(trust.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: required.SyncChunkRoleArn }, Action: 'sts:AssumeRole' },
    ]);
  });

  it('the agent role is assumed by Lambda alone', () => {
    const trust = render().properties('SyncAgentRole').AssumeRolePolicyDocument as PolicyDocument;
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ]);
  });

  /** Each wildcard an identity policy here may hold, and why nothing narrower exists. */
  const documented: { reason: string; resource: string; actions: string[] }[] = [
    {
      reason: 'ListSecrets has no resource-level permissions: AWS accepts only "*"',
      resource: '*',
      actions: ['secretsmanager:ListSecrets'],
    },
    {
      reason:
        "SVID ARNs end in a random suffix; the tag condition and each secret's resource policy narrow them",
      resource: `arn:aws:secretsmanager:${REGION}:${CENTRAL}:secret:trust-bridge/svid/*`,
      actions: ['secretsmanager:GetSecretValue'],
    },
    {
      reason: 'synced secrets are created per Keywhiz secret at run time, each ARN ends in a random suffix',
      resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:trust-bridge/keywhiz/*`,
      actions: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:CreateSecret',
        'secretsmanager:TagResource',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
        'secretsmanager:DeleteSecret',
        'secretsmanager:RestoreSecret',
      ],
    },
    {
      reason: "a log group's ARN as CloudFormation gives it names its streams with :*",
      resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/trust-bridge-sync-agent:*`,
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    },
  ];

  it.each([
    ['a created key', {}],
    ['its own key', { SyncedSecretsKeyArn: ownKey }],
  ])(
    'no role policy has a wildcard action, or a wildcard resource beyond the documented ones (%s)',
    (_, p) => {
      for (const [id, role] of roles(render(p))) {
        for (const { PolicyDocument } of role.Policies as { PolicyDocument: PolicyDocument }[]) {
          for (const statement of PolicyDocument.Statement) {
            for (const action of list(statement.Action))
              expect([id, action]).toEqual([id, action.replace('*', '')]);
            for (const resource of list(statement.Resource).filter((r) => r.includes('*'))) {
              const allowed = documented.find((d) => d.resource === resource);
              expect([id, resource, allowed?.reason]).toEqual([id, resource, expect.any(String)]);
              expect(allowed?.actions).toEqual(expect.arrayContaining(list(statement.Action)));
            }
          }
        }
      }
    },
  );

  it('the created key is the account’s own, used only through Secrets Manager in this account', () => {
    const stack = render();
    expect(stack.conditions.CreateSyncedSecretsKey).toBe(true);
    const { Statement } = stack.properties('SyncedSecretsKey').KeyPolicy as PolicyDocument;
    for (const statement of Statement) {
      expect(statement.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
      // Wildcard actions only to administer the key; in a key policy, Resource "*" is the key itself.
      if (list(statement.Action).some((a) => a.includes('*')))
        expect(statement.Sid).toBe('AccountAdministersKey');
      if (list(statement.Action).some((a) => /Decrypt|Encrypt|GenerateDataKey/.test(a))) {
        expect(statement.Condition?.StringEquals).toEqual({
          'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`,
          'kms:CallerAccount': ACCOUNT,
        });
      }
    }
    expect(render({ SyncedSecretsKeyArn: ownKey }).resources).not.toHaveProperty('SyncedSecretsKey');
  });
});

describe("Keywhiz's own CA", () => {
  const pem = (label: string) =>
    `-----BEGIN ${label}-----\nMIIBszCCAVmgAwIBAgIU${'A'.repeat(64)}\n${'B'.repeat(40)}==\n-----END ${label}-----\n`;
  const pattern = () => new RegExp((template as CfnTemplate).Parameters!.KeywhizServerCaPem!.AllowedPattern!);

  it('is kept in a secret of the account, from the KeywhizServerCaPem parameter, and the agent is told which', () => {
    const bundle = pem('CERTIFICATE') + pem('CERTIFICATE');
    const stack = render({ KeywhizServerCaPem: bundle });
    expect(stack.properties('KeywhizServerCaSecret').SecretString).toBe(bundle);
    const env = (stack.properties('SyncAgentFunction').Environment as { Variables: Record<string, string> })
      .Variables;
    expect(env.KEYWHIZ_SERVER_CA_SECRET).toBe(stack.ref('KeywhizServerCaSecret'));
    expect(env.KEYWHIZ_SERVER_CA_SECRET).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:trust-bridge/keywhiz-server-ca-`),
    );
    expect(stack.output('KeywhizServerCaSecretArn')).toBe(stack.ref('KeywhizServerCaSecret'));
  });

  it('without the parameter, the secret is created empty, for a bundle over 4 KB put by hand, which updates keep', () => {
    expect(render().properties('KeywhizServerCaSecret')).not.toHaveProperty('SecretString');
  });

  it('says in its description that a parameter holds 4,096 bytes, and takes PEM certificates only', () => {
    const parameter = (template as CfnTemplate).Parameters!.KeywhizServerCaPem!;
    expect(parameter.Description).toContain('4,096 bytes');
    expect(parameter.Description).toContain('not the SVID issuer');
    for (const value of ['', pem('CERTIFICATE'), `${pem('CERTIFICATE')}\n${pem('CERTIFICATE')}`])
      expect(pattern().test(value)).toBe(true);
    for (const value of [pem('PRIVATE KEY'), `${pem('CERTIFICATE')}${pem('EC PRIVATE KEY')}`, 'keywhiz-ca'])
      expect(pattern().test(value)).toBe(false);
  });

  it('the agent role reads exactly that secret, and no other value of its account', () => {
    const stack = render();
    const { Statement } = (
      stack.properties('SyncAgentRole').Policies as { PolicyDocument: PolicyDocument }[]
    )[0]!.PolicyDocument;
    const reads = Statement.filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'));
    const own = reads.filter((s) => list(s.Resource).some((r) => r.includes(`:${ACCOUNT}:`)));
    expect(own).toEqual([
      {
        Sid: 'ReadKeywhizServerCa',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: stack.ref('KeywhizServerCaSecret'),
      },
    ]);
  });
});

// The agent's environment against its settings schema: test/infra/function-settings.test.ts.
