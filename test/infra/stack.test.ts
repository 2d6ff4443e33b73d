/**
 * Packages serverless.yml with osls, with no AWS credentials and TCP/DNS refused, then checks the generated
 * CloudFormation: runtimes, one role per function, bound ASL placeholders, what starts each workflow, the webhook's
 * public URL and what it may reach, least privilege.
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { STACK_OUTPUTS, STATE_MACHINE_OUTPUTS, type StackOutput } from '../../cli/deployed-stack';
import { DynamoDbDeliveryLog } from '../../functions/shared/ports/delivery-log/dynamodb-delivery-log';
import { SETTINGS } from '../../functions/shared/config';
import { LOCAL_ENV } from '../../local-stack/local-config';
import { syncRequestSchema } from '../../functions/shared/domain/sync';
import { parseWebhookKey, WEBHOOK_KEY_MIN_BYTES } from '../../functions/shared/domain/webhook';
import { NEAR_EXPIRY_MS } from '../../functions/shared/domain/svid-expiry';
import { SVID_EXPIRY_METRICS } from '../../functions/watch-svid-expiry/watch-svid-expiry';
import {
  type CfnResource as Resource,
  type CfnStatement as Statement,
  type CfnTemplate,
  type Json,
  offlineEnv,
  packageStack,
} from '../support/packaged-stack';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

type Target = { Arn: Json; Input?: string; InputPath?: string; RoleArn: Json };

/** Actions AWS authorizes only on Resource "*": no resource-level permissions exist for them. */
const actionsOnlyOnAnyResource = new Set([
  'secretsmanager:ListSecrets',
  // Step Functions log delivery to CloudWatch Logs
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

/**
 * Every other resource with a wildcard, and why nothing narrower exists: what the "*" stands for is only known
 * at run time.
 */
const wildcardExceptions: { reason: string; resource: RegExp; actions: string[] }[] = [
  {
    reason:
      'SVID secrets are created per (environment, service) at run time, and each ARN ends in a random suffix',
    resource:
      /^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:trust-bridge\/svid\/\*$/,
    actions: [
      'secretsmanager:DescribeSecret',
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:PutResourcePolicy',
      'secretsmanager:RestoreSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DeleteSecret',
    ],
  },
  {
    reason: "a child workflow's executions are named per run; the ARN names the child state machine",
    resource:
      /^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:\$\{\w+ChunkStateMachine\.Name\}:\*$/,
    actions: ['states:DescribeExecution', 'states:StopExecution'],
  },
  {
    reason:
      "a Map Run's child executions are named per run, under the Distributed Map's own state machine and label",
    resource:
      /^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:trust-bridge-ci-(rotate-svids|sync-secrets)\/\*$/,
    actions: ['states:DescribeExecution', 'states:StopExecution'],
  },
  {
    reason:
      "a run's files are under its execution name, known at run time; the key names the workflow and the file",
    resource:
      /^\$\{RunFilesBucket\.Arn\}\/(rotate-svids|sync-secrets)\/\*\/(chunks\.json|replay\.json|results\/\*)$/,
    actions: ['s3:GetObject', 's3:PutObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
  },
  {
    reason:
      "the sync agent's account is each target's, known at run time; the role name is fixed and each invoker role's trust policy decides",
    resource: /^arn:\$\{AWS::Partition\}:iam::\*:role\/trust-bridge-sync-invoker$/,
    actions: ['sts:AssumeRole'],
  },
];

const STATES_ARN = 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}';

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] ?? '').filter((name) => !name.startsWith('AWS::'));

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

let artifacts: string;
let template: CfnTemplate;

const resources = (type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

function resource(logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the packaged template`);
  return found;
}

/** `{ "Fn::GetAtt": [id, "Arn"] }` → id */
function getAttTarget(value: Json): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}

/** `{ "Ref": id }` → id */
const refTarget = (value: Json): string | undefined => (value as { Ref?: string } | undefined)?.Ref;

/** A resource as text: a plain ARN or "*", or the template of an `Fn::Sub`. */
const resourceText = (value: Json): string | undefined =>
  typeof value === 'string' ? value : ((value as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'] as string);

function roleStatements(role: Resource): Statement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

function allowedResources(role: Resource, action: string): Json[] {
  return roleStatements(role)
    .filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
    .flatMap((s) => list(s.Resource));
}

/** Every Allow statement of every IAM role and policy in the stack. */
const allowStatements = () =>
  [...resources('AWS::IAM::Role'), ...resources('AWS::IAM::Policy')].flatMap(([id, r]) => {
    const documents =
      r.Type === 'AWS::IAM::Policy'
        ? [r.Properties.PolicyDocument as { Statement: Statement[] }]
        : ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).map(
            (p) => p.PolicyDocument,
          );
    return documents
      .flatMap((d) => d.Statement)
      .filter((s) => s.Effect === 'Allow')
      .map((statement) => ({ id, statement }));
  });

function stateMachineDefinition(machine: Resource): string {
  const definition = machine.Properties.DefinitionString;
  if (typeof definition !== 'string') throw new Error('DefinitionString is not the ASL text as written');
  return definition;
}

const substitutions = (machineId: string) =>
  (resource(machineId).Properties.DefinitionSubstitutions ?? {}) as Record<string, Json>;

const environment = (functionId: string) =>
  (resource(functionId).Properties.Environment as { Variables: Record<string, Json> } | undefined)
    ?.Variables ?? {};

/** The rules that start a state machine, with the target that does. */
const rulesStarting = (machineId: string) =>
  resources('AWS::Events::Rule').flatMap(([id, rule]) =>
    (rule.Properties.Targets as Target[])
      .filter((t) => refTarget(t.Arn) === machineId)
      .map((target) => ({ id, rule, target })),
  );

const readJson = async (path: string): Promise<Json> => JSON.parse(await readFile(join(root, path), 'utf8'));

beforeAll(async () => {
  ({ template, dir: artifacts } = await packageStack());
}, 180_000);

describe('the offline guard used while packaging', () => {
  it('refuses network connections', async () => {
    const attempt = run(process.execPath, ['-e', "await fetch('http://192.0.2.1/')"], {
      env: offlineEnv(tmpdir()),
      timeout: 20_000,
    });
    await expect(attempt).rejects.toThrow(/network access is disabled|fetch failed/);
  });
});

describe('functions', () => {
  const expected = [
    'PlanRotation',
    'LoadChunk',
    'IssueSvid',
    'RetireSvid',
    'ReportOutcomes',
    'SummarizeRotation',
    'PlanSync',
    'LoadSyncChunk',
    'ReportSyncOutcomes',
    'SummarizeSync',
    'ReceiveWebhook',
    'WatchSvidExpiry',
  ].map((name) => `${name}LambdaFunction`);

  it('are the rotation and sync steps, the webhook receiver and the expiry watcher, on nodejs22.x and arm64', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([...expected].sort());
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('ship, as ES modules, the file their Handler names', async () => {
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      const handler = fn.Properties.Handler as string;
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const zip = await readFile(join(artifacts, basename(key)));
      // A zip's central directory holds each entry's name uncompressed.
      expect(zip.includes(`${handler.slice(0, handler.lastIndexOf('.'))}.mjs`)).toBe(true);
    }
  });

  it('each assume a role of their own, trusted by Lambda only', () => {
    const roles = resources('AWS::Lambda::Function').map(([, fn]) => getAttTarget(fn.Properties.Role));
    expect(new Set(roles).size).toBe(expected.length);
    for (const roleId of roles) {
      const role = resource(roleId ?? '');
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const trust = role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] };
      expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: 'lambda.amazonaws.com' }]);
    }
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  // Which variables each function is given, against its own schema: test/infra/function-settings.test.ts.

  it('plan sync runs with the sync chunking of the params', () => {
    expect(environment('PlanSyncLambdaFunction')).toEqual(
      expect.objectContaining({
        ENROLLMENTS_URL: expect.any(String),
        SYNC_CHUNK_SIZE: '100',
        SYNC_ACCOUNT_CONCURRENCY: '10',
        CHUNK_CONCURRENCY: '4',
      }),
    );
  });

  it('the webhook receiver is given the stack’s signing key, delivery table and audit bus', () => {
    expect(environment('ReceiveWebhookLambdaFunction')).toEqual(
      expect.objectContaining({
        WEBHOOK_KEY_SECRET_NAME: { Ref: 'WebhookSigningKey' },
        WEBHOOK_DELIVERY_TABLE: { Ref: 'WebhookDeliveries' },
        AUDIT_BUS_NAME: { Ref: 'AuditBus' },
      }),
    );
    // Only the receiver knows where the key and the deliveries are.
    const others = resources('AWS::Lambda::Function').filter(([id]) => id !== 'ReceiveWebhookLambdaFunction');
    for (const [id] of others) {
      expect({
        id,
        keys: Object.keys(environment(id)).filter((name) => name.startsWith('WEBHOOK_')),
      }).toEqual({
        id,
        keys: [],
      });
    }
  });

  it('can touch the customer-managed keys only through Secrets Manager', () => {
    const kmsStatements = allowStatements()
      .map(({ statement }) => statement)
      .filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(kmsStatements.length).toBeGreaterThan(1);
    for (const statement of kmsStatements) {
      expect(statement.Condition?.StringEquals?.['kms:ViaService']).toEqual({
        'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com`,
      });
    }
  });
});

describe('state machines', () => {
  const files = {
    RotateSvidsStateMachine: 'rotate-svids.asl.json',
    RotateSvidsChunkStateMachine: 'rotate-svids-chunk.asl.json',
    SyncSecretsStateMachine: 'sync-secrets.asl.json',
    SyncSecretsChunkStateMachine: 'sync-secrets-chunk.asl.json',
  };
  const machines = () => resources('AWS::StepFunctions::StateMachine');

  it('deploy the rotation and sync workflows and their chunks from their ASL files, unchanged', async () => {
    expect(
      machines()
        .map(([id]) => id)
        .sort(),
    ).toEqual(Object.keys(files).sort());
    for (const [id, file] of Object.entries(files)) {
      expect(JSON.parse(stateMachineDefinition(resource(id)))).toEqual(
        await readJson(`statemachines/${file}`),
      );
      expect(resource(id).Properties.StateMachineType).toBe('STANDARD');
    }
  });

  it(`bind every \${Placeholder} in their definitions, and nothing else`, () => {
    for (const [id, machine] of machines()) {
      const used = new Set(placeholders(stateMachineDefinition(machine)));
      const bound = Object.keys(substitutions(id));
      expect(used.size).toBeGreaterThan(0);
      expect({ id, bound: new Set(bound) }).toEqual({ id, bound: used });
    }
  });

  it('bind each function placeholder to the function whose handler is the step statemachines/steps.json names', async () => {
    const steps = (await readJson('statemachines/steps.json')) as Record<string, string>;
    const bound = machines().flatMap(([id]) =>
      Object.entries(substitutions(id)).filter(([placeholder]) => placeholder.endsWith('FunctionArn')),
    );
    expect(bound.map(([placeholder]) => placeholder).sort()).toEqual(
      Object.keys(steps)
        .filter((p) => p.endsWith('FunctionArn'))
        .sort(),
    );
    for (const [placeholder, arn] of bound) {
      const fn = resource(getAttTarget(arn) ?? '');
      expect({ placeholder, handler: fn.Properties.Handler }).toEqual({
        placeholder,
        handler: `functions/${steps[placeholder]}/handler.handler`,
      });
    }
  });

  it('reach each account’s sync agent by the names the onboarding template and the config use', () => {
    expect(substitutions('SyncSecretsChunkStateMachine')).toEqual(
      expect.objectContaining({
        SyncInvokerRoleName: 'trust-bridge-sync-invoker',
        SyncAgentFunctionName: LOCAL_ENV.SYNC_AGENT_FUNCTION_NAME,
        AwsRegion: { Ref: 'AWS::Region' },
        AwsPartition: { Ref: 'AWS::Partition' },
      }),
    );
  });

  it('have roles that may invoke exactly the functions and child workflows their definitions name', () => {
    for (const [id, machine] of machines()) {
      const role = resource(getAttTarget(machine.Properties.RoleArn) ?? '');
      const bound = Object.values(substitutions(id));
      const functionArns = bound.filter((v) => getAttTarget(v)?.endsWith('LambdaFunction'));
      const childMachines = bound.filter(
        (v) => template.Resources[refTarget(v) ?? '']?.Type === 'AWS::StepFunctions::StateMachine',
      );
      expect(allowedResources(role, 'lambda:InvokeFunction')).toEqual(expect.arrayContaining(functionArns));
      expect(allowedResources(role, 'lambda:InvokeFunction')).toHaveLength(functionArns.length);
      // A parent's Distributed Map starts its Map Run's children on the parent itself, named as serverless.yml does.
      const ownName = machine.Properties.StateMachineName as string;
      const distributed =
        childMachines.length > 0 ? [{ 'Fn::Sub': `${STATES_ARN}:stateMachine:${ownName}` }] : [];
      expect(allowedResources(role, 'states:StartExecution')).toEqual([...childMachines, ...distributed]);
      const trust = role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] };
      expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: 'states.amazonaws.com' }]);
    }
  });

  it.each([
    ['RotateSvidsStateMachineRole', 'RotateSvidsChunkStateMachine'],
    ['SyncSecretsStateMachineRole', 'SyncSecretsChunkStateMachine'],
  ])('let %s wait on the executions of %s (startExecution.sync) and of its Map Run', (roleId, child) => {
    const role = resource(roleId);
    const parent = resource(child.replace('Chunk', '')).Properties.StateMachineName as string;
    expect(allowedResources(role, 'states:DescribeExecution')).toEqual([
      { 'Fn::Sub': `${STATES_ARN}:execution:\${${child}.Name}:*` },
      { 'Fn::Sub': `${STATES_ARN}:execution:${parent}/*` },
    ]);
    expect(allowedResources(role, 'events:PutRule')).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
      },
    ]);
  });

  it('log errors only, without execution data, to their own log groups', () => {
    const groups = machines().map(([, machine]) => {
      const logging = machine.Properties.LoggingConfiguration as {
        Level: string;
        IncludeExecutionData: boolean;
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: Json } }[];
      };
      expect(logging.Level).toBe('ERROR');
      expect(logging.IncludeExecutionData).toBe(false);
      const group = getAttTarget(logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn);
      expect(resource(group ?? '').Properties.RetentionInDays).toEqual(expect.any(Number));
      return group;
    });
    expect(new Set(groups).size).toBe(groups.length);
  });
});

describe('what starts each workflow', () => {
  /** The one statement of a rule's role: StartExecution on the rule's target only, for EventBridge only. */
  function expectStartsOnly(target: Target) {
    const role = resource(getAttTarget(target.RoleArn) ?? '');
    const trust = role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: 'events.amazonaws.com' }]);
    expect(roleStatements(role)).toEqual([
      expect.objectContaining({ Action: ['states:StartExecution'], Resource: target.Arn }),
    ]);
  }

  it('are three rules, and a fourth starts the expiry watcher', () => {
    const targets = resources('AWS::Events::Rule').flatMap(([, rule]) => rule.Properties.Targets as Target[]);
    expect(targets.map((t) => refTarget(t.Arn) ?? getAttTarget(t.Arn)).sort()).toEqual([
      'RotateSvidsStateMachine',
      'SyncSecretsStateMachine',
      'SyncSecretsStateMachine',
      'WatchSvidExpiryLambdaFunction',
    ]);
    for (const [, rule] of resources('AWS::Events::Rule')) {
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.Targets).toHaveLength(1);
    }
  });

  it('rotate-svids: a schedule, every 12 hours, with an empty input', () => {
    const starters = rulesStarting('RotateSvidsStateMachine');
    expect(starters).toHaveLength(1);
    const [{ rule, target } = {} as never] = starters;
    expect(rule.Properties.ScheduleExpression).toBe('rate(12 hours)');
    expect(JSON.parse(target.Input ?? '')).toEqual({});
    expectStartsOnly(target);
  });

  it('sync-secrets: an hourly full reconcile, with an empty input', () => {
    const scheduled = rulesStarting('SyncSecretsStateMachine').filter(
      ({ rule }) => rule.Properties.ScheduleExpression !== undefined,
    );
    expect(scheduled).toHaveLength(1);
    const [{ rule, target } = {} as never] = scheduled;
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(JSON.parse(target.Input ?? '')).toEqual({});
    expectStartsOnly(target);
  });

  it('sync-secrets: each Keywhiz change the webhook puts on the audit bus, with its detail as the input', async () => {
    const onEvents = rulesStarting('SyncSecretsStateMachine').filter(
      ({ rule }) => rule.Properties.EventPattern !== undefined,
    );
    expect(onEvents).toHaveLength(1);
    const [{ rule, target } = {} as never] = onEvents;
    expect(rule.Properties.EventBusName).toEqual({ Ref: 'AuditBus' });
    expect(rule.Properties.EventPattern).toEqual(
      await readJson('events/patterns/keywhiz-secret-changed.json'),
    );
    expect(target.InputPath).toBe('$.detail');
    expect(target.Input).toBeUndefined();
    expectStartsOnly(target);
    // What the receiver puts on the bus, narrowed by InputPath, is a run input sync-secrets accepts.
    const sample = (await readJson('events/samples/keywhiz-secret-changed.json')) as Record<string, unknown>;
    const pattern = rule.Properties.EventPattern as Record<string, unknown[]>;
    expect(pattern.source).toContain(sample.source);
    expect(pattern['detail-type']).toContain(sample['detail-type']);
    expect(syncRequestSchema.safeParse(sample.detail).success).toBe(true);
  });

  it.each([
    ['RotateSvidsChunkStateMachine', 'RotateSvidsStateMachineRole'],
    ['SyncSecretsChunkStateMachine', 'SyncSecretsStateMachineRole'],
  ])('%s: its parent only, never a rule', (chunk, parentRole) => {
    expect(rulesStarting(chunk)).toEqual([]);
    const starters = allowStatements()
      .filter(({ statement }) => list(statement.Action).includes('states:StartExecution'))
      .filter(({ statement }) => list(statement.Resource).some((r) => refTarget(r) === chunk))
      .map(({ id }) => id);
    expect(starters).toEqual([parentRole]);
  });
});

describe('the webhook receiver', () => {
  const receiverRole = () =>
    resource(getAttTarget(resource('ReceiveWebhookLambdaFunction').Properties.Role) ?? '');

  it('is the only function behind a public URL, which it guards with its own signature check', () => {
    const urls = resources('AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(urls[0]?.[1].Properties).toEqual(
      expect.objectContaining({
        AuthType: 'NONE',
        TargetFunctionArn: { 'Fn::GetAtt': ['ReceiveWebhookLambdaFunction', 'Arn'] },
      }),
    );
  });

  it('has both permissions AWS requires of a public function URL, and no other public permission', () => {
    const permissions = resources('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    const receiver = { 'Fn::GetAtt': ['ReceiveWebhookLambdaFunction', 'Arn'] };
    const open = permissions.filter((p) => p.Principal === '*');
    expect(open).toHaveLength(2);
    expect(open).toEqual(
      expect.arrayContaining([
        {
          FunctionName: receiver,
          Action: 'lambda:InvokeFunctionUrl',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
        // Only through the URL: a direct Invoke by anyone stays refused.
        {
          FunctionName: receiver,
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          InvokedViaFunctionUrl: true,
        },
      ]),
    );
    // The rest: EventBridge, each from one rule of this stack.
    for (const other of permissions.filter((p) => p.Principal !== '*')) {
      expect(other.Principal).toBe('events.amazonaws.com');
      expect(template.Resources[getAttTarget(other.SourceArn) ?? '']?.Type).toBe('AWS::Events::Rule');
    }
  });

  it('may read its signing key, claim and release deliveries, and put events on the audit bus: nothing else', () => {
    const granted = roleStatements(receiverRole()).map((s) => ({
      actions: list(s.Action),
      resources: list(s.Resource),
    }));
    expect(granted).toEqual([
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [{ 'Fn::GetAtt': ['ReceiveWebhookLogGroup', 'Arn'] }],
      },
      { actions: ['secretsmanager:GetSecretValue'], resources: [{ Ref: 'WebhookSigningKey' }] },
      { actions: ['kms:Decrypt'], resources: [{ 'Fn::GetAtt': ['WebhookKmsKey', 'Arn'] }] },
      {
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [{ 'Fn::GetAtt': ['WebhookDeliveries', 'Arn'] }],
      },
      { actions: ['events:PutEvents'], resources: [{ 'Fn::GetAtt': ['AuditBus', 'Arn'] }] },
    ]);
  });

  it('cannot read SVID secrets', () => {
    const svidPrefix = environment('IssueSvidLambdaFunction').SVID_SECRET_PREFIX as string;
    const key = resource('WebhookSigningKey');
    expect((key.Properties.Name as string).startsWith(svidPrefix)).toBe(false);
    // Its own key, not the SVID key that enrolled accounts may decrypt with.
    expect(key.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': ['WebhookKmsKey', 'Arn'] });
    const reach = roleStatements(receiverRole()).filter((s) =>
      list(s.Action).some((a) => a.startsWith('secretsmanager:') || a.startsWith('kms:')),
    );
    for (const statement of reach) {
      for (const target of list(statement.Resource)) {
        expect(resourceText(target) ?? '').not.toContain(svidPrefix);
        expect(target).not.toEqual('*');
        expect(getAttTarget(target)).not.toBe('SvidKey');
      }
    }
  });

  it('gets a generated signing key in the form it reads (hex digits, at least 32 bytes)', () => {
    const generate = resource('WebhookSigningKey').Properties.GenerateSecretString as {
      PasswordLength: number;
      ExcludePunctuation: boolean;
      ExcludeUppercase: boolean;
      ExcludeLowercase?: boolean;
      ExcludeNumbers?: boolean;
      ExcludeCharacters: string;
      IncludeSpace: boolean;
    };
    expect(generate).toEqual(
      expect.objectContaining({ ExcludePunctuation: true, ExcludeUppercase: true, IncludeSpace: false }),
    );
    const alphabet = [
      ...(generate.ExcludeLowercase ? '' : 'abcdefghijklmnopqrstuvwxyz'),
      ...(generate.ExcludeNumbers ? '' : '0123456789'),
    ].filter((c) => !generate.ExcludeCharacters.includes(c));
    expect(alphabet.sort().join('')).toBe('0123456789abcdef');
    expect(generate.PasswordLength).toBeGreaterThanOrEqual(WEBHOOK_KEY_MIN_BYTES * 2);
    // Any value Secrets Manager may generate from that alphabet and length is a key the receiver accepts.
    const value = Array.from({ length: generate.PasswordLength }, () => alphabet[randomInt(alphabet.length)]);
    expect(parseWebhookKey(value.join(''), 'generated').length).toBe(generate.PasswordLength / 2);
  });

  it('encrypts its signing key with a rotating key that only this account may use, through Secrets Manager', () => {
    const key = resource('WebhookKmsKey');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const account = { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root` };
    expect(statements.map((s) => s.Principal)).toEqual(statements.map(() => ({ AWS: account })));
    const use = statements.filter((s) =>
      list(s.Action).some((a) => ['kms:Decrypt', 'kms:Encrypt'].includes(a)),
    );
    expect(use).toHaveLength(1);
    expect(use[0]?.Condition?.StringEquals).toEqual({
      'kms:ViaService': { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` },
      'kms:CallerAccount': { Ref: 'AWS::AccountId' },
    });
  });

  it('remembers deliveries in an on-demand table keyed and expired as the delivery log writes them', async () => {
    const table = resource('WebhookDeliveries').Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([{ AttributeName: 'deliveryId', KeyType: 'HASH' }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'deliveryId', AttributeType: 'S' }]);
    const ttl = table.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean };
    expect(ttl.Enabled).toBe(true);

    const sent: { input: { Item?: Record<string, Record<string, string>> } }[] = [];
    const log = new DynamoDbDeliveryLog(
      { send: async (command: never) => void sent.push(command) } as never,
      { tableName: 'deliveries', now: () => new Date('2025-03-01T10:15:00Z') },
    );
    await log.claim('keywhiz-audit:8f2c51');
    const item = sent[0]?.input.Item ?? {};
    expect(item.deliveryId).toEqual({ S: 'keywhiz-audit:8f2c51' });
    // DynamoDB expires an item by a Number attribute in Unix seconds, after the claim.
    const expiresAt = Number(item[ttl.AttributeName]?.N);
    expect(expiresAt).toBeGreaterThan(Date.parse('2025-03-01T10:15:00Z') / 1000);
  });
});

describe('the sync workflow across accounts', () => {
  it('may assume the invoker role, by its name, in any account, and nothing else may assume a role', () => {
    const assume = allowStatements().filter(({ statement }) =>
      list(statement.Action).includes('sts:AssumeRole'),
    );
    expect(assume.map(({ id, statement }) => ({ id, resources: list(statement.Resource) }))).toEqual([
      {
        id: 'SyncSecretsChunkStateMachineRole',
        resources: [{ 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/trust-bridge-sync-invoker` }],
      },
    ]);
    expect(assume[0]?.statement.Condition).toBeUndefined();
  });

  it('invokes each agent with the role it is allowed to assume', () => {
    const definition = JSON.parse(stateMachineDefinition(resource('SyncSecretsChunkStateMachine')));
    const task = definition.States['Sync Each Account'].ItemProcessor.States['Sync Agent'];
    // The partition is bound to AWS::Partition, the same partition the role's policy names.
    const roleArn = (task.Credentials['RoleArn.$'] as string)
      .replace(
        '${SyncInvokerRoleName}',
        substitutions('SyncSecretsChunkStateMachine').SyncInvokerRoleName as string,
      )
      .replace('${AwsPartition}', '${AWS::Partition}');
    expect(roleArn).toBe(
      "States.Format('arn:${AWS::Partition}:iam::{}:role/trust-bridge-sync-invoker', $.target.accountId)",
    );
  });

  it('names its cross-account role so that enrolled accounts can trust it, and says so in an output', () => {
    const role = resource('SyncSecretsChunkStateMachineRole');
    expect(role.Properties.RoleName).toBe('trust-bridge-ci-us-east-1-sync-chunk');
    expect(template.Outputs.SyncChunkRoleArn?.Value).toEqual({
      'Fn::GetAtt': ['SyncSecretsChunkStateMachineRole', 'Arn'],
    });
  });
});

describe('IAM policies', () => {
  it('never allow every action of a service, nor NotAction', () => {
    const broad = allowStatements().filter(
      ({ statement }) =>
        statement.NotAction !== undefined ||
        list(statement.Action).some((a) => a === '*' || /^[\w-]+:\*$/.test(a)),
    );
    expect(broad).toEqual([]);
  });

  it('allow Resource "*" only for actions AWS authorizes on no narrower resource', () => {
    const anyResource = allowStatements().filter(({ statement }) => list(statement.Resource).includes('*'));
    expect(anyResource.length).toBeGreaterThan(0);
    for (const { id, statement } of anyResource) {
      expect({ id, actions: list(statement.Action).filter((a) => !actionsOnlyOnAnyResource.has(a)) }).toEqual(
        {
          id,
          actions: [],
        },
      );
    }
  });

  it('use a wildcard inside an ARN only where the documented exceptions say why', () => {
    const wildcards = allowStatements().flatMap(({ id, statement }) =>
      list(statement.Resource)
        .map(resourceText)
        .filter((text): text is string => text !== undefined && text !== '*' && text.includes('*'))
        .map((text) => ({ id, text, actions: list(statement.Action) })),
    );
    expect(wildcards.length).toBeGreaterThan(0);
    const unexplained = wildcards.filter(
      ({ text, actions }) =>
        !wildcardExceptions.some((e) => e.resource.test(text) && actions.every((a) => e.actions.includes(a))),
    );
    expect(unexplained).toEqual([]);
    // Every exception is still needed: none is left over to excuse a future wildcard.
    for (const exception of wildcardExceptions) {
      expect({
        reason: exception.reason,
        used: wildcards.some(({ text }) => exception.resource.test(text)),
      }).toEqual({
        reason: exception.reason,
        used: true,
      });
    }
  });
});

describe('the SVID key', () => {
  const keyPolicy = () =>
    (resource('SvidKey').Properties.KeyPolicy as { Statement: Json[] }).Statement.map((s) => {
      // A conditional statement (readers only when accounts are given) is checked as if present.
      const conditional = (s as { 'Fn::If'?: [string, Statement, Json] })['Fn::If'];
      return conditional ? conditional[1] : (s as Statement);
    });

  it('is a rotating customer-managed key behind alias/trust-bridge-svids', () => {
    expect(resource('SvidKey').Properties.EnableKeyRotation).toBe(true);
    expect(resource('SvidKeyAlias').Properties).toEqual({
      AliasName: 'alias/trust-bridge-svids',
      TargetKeyId: { Ref: 'SvidKey' },
    });
  });

  it('grants no kms:* and lets other principals only decrypt through Secrets Manager in listed accounts', () => {
    const statements = keyPolicy();
    expect(statements.flatMap((s) => list(s.Action)).filter((a) => a === '*' || a === 'kms:*')).toEqual([]);
    const open = statements.filter((s) => JSON.stringify(s.Principal) === JSON.stringify({ AWS: '*' }));
    expect(open).toHaveLength(1);
    for (const statement of open) {
      expect(list(statement.Action)).toEqual(['kms:Decrypt']);
      expect(statement.Condition?.StringEquals).toEqual({
        'kms:ViaService': { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` },
        'kms:CallerAccount': expect.anything(),
      });
    }
  });

  it('lets the issuer role use it only via Secrets Manager, naming the role the issueSvid function assumes', () => {
    const issuer = keyPolicy().find((s) => s.Condition?.ArnEquals?.['aws:PrincipalArn']);
    const roleName = resource('IssueSvidRole').Properties.RoleName as string;
    expect(getAttTarget(resource('IssueSvidLambdaFunction').Properties.Role)).toBe('IssueSvidRole');
    expect(issuer?.Condition?.ArnEquals?.['aws:PrincipalArn']).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${roleName}`,
    });
    expect(issuer?.Condition?.StringEquals?.['kms:ViaService']).toBeDefined();
    expect(environment('IssueSvidLambdaFunction').ISSUER_ROLE_ARN).toEqual(
      issuer?.Condition?.ArnEquals?.['aws:PrincipalArn'],
    );
  });
});

describe('the audit bus', () => {
  it('is archived whole, for the retention the params set', () => {
    const archives = resources('AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    const [, archive] = archives[0] ?? ['', resource('AuditArchive')];
    expect(archive.Properties.SourceArn).toEqual({ 'Fn::GetAtt': ['AuditBus', 'Arn'] });
    // No pattern: every event, whatever its source.
    expect(archive.Properties.EventPattern).toBeUndefined();
    expect(archive.Properties.RetentionDays).toBe(400);
  });
});

describe('account status', () => {
  it.each([
    ['ReportOutcomesLambdaFunction', 'ReportOutcomesRole'],
    ['ReportSyncOutcomesLambdaFunction', 'ReportSyncOutcomesRole'],
  ])('%s writes the stack’s status table, in batches, and may do nothing else to it', (fn, roleId) => {
    expect(environment(fn).ACCOUNT_STATUS_TABLE).toEqual({ Ref: 'AccountStatusTable' });
    const onTable = roleStatements(resource(roleId)).filter((s) =>
      list(s.Resource).some((r) => getAttTarget(r) === 'AccountStatusTable'),
    );
    expect(onTable.map((s) => ({ actions: list(s.Action), resources: list(s.Resource) }))).toEqual([
      { actions: ['dynamodb:BatchWriteItem'], resources: [{ 'Fn::GetAtt': ['AccountStatusTable', 'Arn'] }] },
    ]);
  });

  it('is written by the report steps only', () => {
    const writers = allowStatements()
      .filter(({ statement }) => list(statement.Action).some((a) => a.startsWith('dynamodb:')))
      .filter(({ statement }) =>
        list(statement.Resource).some((r) => getAttTarget(r) === 'AccountStatusTable'),
      )
      .map(({ id }) => id);
    expect(writers.sort()).toEqual(['ReportOutcomesRole', 'ReportSyncOutcomesRole']);
    const readers = resources('AWS::Lambda::Function')
      .filter(([id]) => environment(id).ACCOUNT_STATUS_TABLE !== undefined)
      .map(([id]) => id);
    expect(readers.sort()).toEqual(['ReportOutcomesLambdaFunction', 'ReportSyncOutcomesLambdaFunction']);
  });
});

describe('the certificate authority', () => {
  const chosen = {
    'Fn::If': [
      'CreatesCertificateAuthority',
      { Ref: 'CertificateAuthority' },
      { Ref: 'CertificateAuthorityArn' },
    ],
  };
  const created = [
    'CertificateAuthority',
    'CertificateAuthorityCertificate',
    'CertificateAuthorityActivation',
  ];
  /** Which branch of `chosen` a deployment takes, for a value of the stack parameter. */
  const createsFor = (caArn: string) => {
    const condition = template.Conditions?.CreatesCertificateAuthority as { 'Fn::Equals': [Json, Json] };
    const [left, right] = condition['Fn::Equals'].map((side) =>
      refTarget(side) === 'CertificateAuthorityArn' ? caArn : side,
    );
    return left === right;
  };

  it('is the caArn param by default, as a stack parameter that accepts a CA ARN or nothing', () => {
    const parameter = template.Parameters?.CertificateAuthorityArn;
    expect(parameter?.Default).toBe(
      'arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/00000000-0000-0000-0000-000000000000',
    );
    const pattern = new RegExp(parameter?.AllowedPattern ?? '(?!)');
    expect(pattern.test(parameter?.Default as string)).toBe(true);
    expect(pattern.test('')).toBe(true);
    expect(pattern.test('arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/x')).toBe(false);
    expect(createsFor(parameter?.Default as string)).toBe(false);
    expect(createsFor('')).toBe(true);
  });

  it('is created, activated and self-signed only when no CA ARN is given', () => {
    for (const id of created)
      expect({ id, condition: resource(id).Condition }).toEqual({
        id,
        condition: 'CreatesCertificateAuthority',
      });
    expect(
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type.startsWith('AWS::ACMPCA::'))
        .map(([id]) => id)
        .sort(),
    ).toEqual([...created].sort());
  });

  it('when created, is a P-256 root CA named after the trust domain, in the mode the caUsageMode param names', () => {
    const mode = template.Parameters?.CertificateAuthorityUsageMode;
    expect(mode).toMatchObject({
      Default: 'SHORT_LIVED_CERTIFICATE',
      AllowedValues: ['SHORT_LIVED_CERTIFICATE', 'GENERAL_PURPOSE'],
    });
    expect(resource('CertificateAuthority').Properties).toEqual({
      Type: 'ROOT',
      UsageMode: { Ref: 'CertificateAuthorityUsageMode' },
      KeyAlgorithm: 'EC_prime256v1',
      SigningAlgorithm: 'SHA256WITHECDSA',
      Subject: {
        CommonName: environment('IssueSvidLambdaFunction').TRUST_DOMAIN,
        Organization: 'trust-bridge',
      },
    });
    expect(SETTINGS.CA_SIGNING_ALGORITHM.parse(undefined)).toBe('SHA256WITHECDSA');
    expect(resource('CertificateAuthorityCertificate').Properties).toEqual(
      expect.objectContaining({
        CertificateAuthorityArn: { Ref: 'CertificateAuthority' },
        CertificateSigningRequest: { 'Fn::GetAtt': ['CertificateAuthority', 'CertificateSigningRequest'] },
        TemplateArn: { 'Fn::Sub': 'arn:${AWS::Partition}:acm-pca:::template/RootCACertificate/V1' },
      }),
    );
    expect(resource('CertificateAuthorityActivation').Properties).toEqual({
      CertificateAuthorityArn: { Ref: 'CertificateAuthority' },
      Certificate: { 'Fn::GetAtt': ['CertificateAuthorityCertificate', 'Certificate'] },
      Status: 'ACTIVE',
    });
  });

  it('is the one the issuing function, the issuer role and the output name, whichever applies', () => {
    const withCa = resources('AWS::Lambda::Function').filter(([id]) => environment(id).CA_ARN !== undefined);
    expect(withCa.map(([id]) => id)).toEqual(['IssueSvidLambdaFunction']);
    expect(environment('IssueSvidLambdaFunction').CA_ARN).toEqual(chosen);
    const issuer = resource('IssueSvidRole');
    for (const action of [
      'acm-pca:IssueCertificate',
      'acm-pca:GetCertificate',
      'acm-pca:GetCertificateAuthorityCertificate',
    ]) {
      expect({ action, resources: allowedResources(issuer, action) }).toEqual({
        action,
        resources: [chosen],
      });
    }
    const pca = allowStatements().filter(({ statement }) =>
      list(statement.Action).some((a) => a.startsWith('acm-pca:')),
    );
    expect(new Set(pca.map(({ id }) => id))).toEqual(new Set(['IssueSvidRole']));
    expect(template.Outputs.CertificateAuthorityArn?.Value).toEqual(chosen);
  });
});

describe('alarms', () => {
  type Alarm = {
    Namespace: string;
    MetricName: string;
    Dimensions: { Name: string; Value: Json }[];
    Statistic: string;
    Threshold: number;
    ComparisonOperator: string;
    TreatMissingData: string;
    AlarmActions: Json[];
    OKActions: Json[];
  };
  const alarms = () =>
    resources('AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, ...(a.Properties as Alarm) }));

  it('watch every workflow that a schedule or rule starts for failed executions', () => {
    const startedByRules = resources('AWS::Events::Rule')
      .flatMap(([, rule]) => (rule.Properties.Targets as Target[]).map((t) => refTarget(t.Arn)))
      .filter((id) => template.Resources[id ?? '']?.Type === 'AWS::StepFunctions::StateMachine');
    const watched = alarms()
      .filter((a) => a.Namespace === 'AWS/States')
      .map((a) => {
        expect(a).toEqual(
          expect.objectContaining({
            MetricName: 'ExecutionsFailed',
            Statistic: 'Sum',
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            TreatMissingData: 'notBreaching',
          }),
        );
        expect(a.Dimensions).toHaveLength(1);
        expect(a.Dimensions[0]?.Name).toBe('StateMachineArn');
        return refTarget(a.Dimensions[0]?.Value);
      });
    expect(watched.sort()).toEqual([...new Set(startedByRules)].sort());
    expect(watched.sort()).toEqual(['RotateSvidsStateMachine', 'SyncSecretsStateMachine']);
  });

  it('fire on any SVID within 6 h of expiry, as the watcher counts them, and when the watcher goes quiet', () => {
    const expiry = alarms().filter((a) => a.Namespace !== 'AWS/States');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]).toEqual(
      expect.objectContaining({
        Namespace: SVID_EXPIRY_METRICS.namespace,
        MetricName: SVID_EXPIRY_METRICS.nearExpiry,
        // Powertools' default dimension: the service name the watcher's Metrics is built with.
        Dimensions: [{ Name: 'service', Value: SVID_EXPIRY_METRICS.serviceName }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'breaching',
      }),
    );
    expect(NEAR_EXPIRY_MS).toBe(6 * 3_600_000);
  });

  it('notify the alarm topic when they fire and when they clear; email only if an address is given', () => {
    for (const alarm of alarms()) {
      expect({ id: alarm.id, actions: alarm.AlarmActions, ok: alarm.OKActions }).toEqual({
        id: alarm.id,
        actions: [{ Ref: 'AlarmTopic' }],
        ok: [{ Ref: 'AlarmTopic' }],
      });
    }
    expect(resource('AlarmTopic').Type).toBe('AWS::SNS::Topic');
    const subscription = resource('AlarmEmailSubscription');
    expect(subscription.Condition).toBe('HasAlarmEmail');
    expect(subscription.Properties).toEqual({
      TopicArn: { Ref: 'AlarmTopic' },
      Protocol: 'email',
      Endpoint: { Ref: 'AlarmEmail' },
    });
    expect(template.Parameters?.AlarmEmail?.Default).toBe('');
    expect(template.Conditions?.HasAlarmEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }],
    });
  });
});

describe('the SVID expiry watcher', () => {
  it('runs every hour, with no input', () => {
    const rules = resources('AWS::Events::Rule').filter(([, rule]) =>
      (rule.Properties.Targets as Target[]).some(
        (t) => getAttTarget(t.Arn) === 'WatchSvidExpiryLambdaFunction',
      ),
    );
    expect(rules.map(([, rule]) => rule.Properties.ScheduleExpression)).toEqual(['rate(1 hour)']);
  });

  it('may list secrets (tags only) and write its log: nothing else', () => {
    const role = resource(getAttTarget(resource('WatchSvidExpiryLambdaFunction').Properties.Role) ?? '');
    expect(
      roleStatements(role).map((s) => ({ actions: list(s.Action), resources: list(s.Resource) })),
    ).toEqual([
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [{ 'Fn::GetAtt': ['WatchSvidExpiryLogGroup', 'Arn'] }],
      },
      { actions: ['secretsmanager:ListSecrets'], resources: ['*'] },
    ]);
  });
});

describe('the outputs the operator CLI reads with --aws (cli/deployed-stack.ts)', () => {
  /** What each output must hold for the CLI to act on the right thing. */
  const expected: Record<StackOutput, Json> = {
    RotateSvidsStateMachineArn: { Ref: 'RotateSvidsStateMachine' },
    RotateSvidsChunkStateMachineArn: { Ref: 'RotateSvidsChunkStateMachine' },
    SyncSecretsStateMachineArn: { Ref: 'SyncSecretsStateMachine' },
    SyncSecretsChunkStateMachineArn: { Ref: 'SyncSecretsChunkStateMachine' },
    AuditBusName: { Ref: 'AuditBus' },
    AccountStatusTableName: { Ref: 'AccountStatusTable' },
    WebhookSigningKeyArn: { Ref: 'WebhookSigningKey' },
    WebhookUrl: { 'Fn::GetAtt': ['ReceiveWebhookLambdaFunctionUrl', 'FunctionUrl'] },
    SvidSecretPrefix: 'trust-bridge/svid/',
    TrustDomain: 'example.org',
    AgentCodeBucketName: { Ref: 'AgentCodeBucket' },
  };

  it.each([...STACK_OUTPUTS])('%s is an output of every stack, holding what the CLI takes it for', (name) => {
    const output = template.Outputs[name];
    expect(output).toBeDefined();
    expect(output?.Condition).toBeUndefined();
    expect(output?.Value).toEqual(expected[name]);
  });

  it('name each state machine the CLI acts on by its own name', () => {
    for (const [machine, output] of Object.entries(STATE_MACHINE_OUTPUTS)) {
      const id = refTarget(template.Outputs[output]?.Value);
      expect(resource(id ?? '').Type).toBe('AWS::StepFunctions::StateMachine');
      expect(resource(id ?? '').Properties.StateMachineName).toBe(`trust-bridge-ci-${machine}`);
    }
  });

  it('name the audit bus the steps publish on, and the status table the report steps write', () => {
    expect(environment('ReceiveWebhookLambdaFunction').AUDIT_BUS_NAME).toEqual(
      template.Outputs.AuditBusName?.Value,
    );
    expect(environment('ReportOutcomesLambdaFunction').ACCOUNT_STATUS_TABLE).toEqual(
      template.Outputs.AccountStatusTableName?.Value,
    );
  });

  it('give the receiver’s public URL and the key it verifies with', () => {
    expect(resource('ReceiveWebhookLambdaFunctionUrl').Properties.TargetFunctionArn).toEqual({
      'Fn::GetAtt': ['ReceiveWebhookLambdaFunction', 'Arn'],
    });
    expect(environment('ReceiveWebhookLambdaFunction').WEBHOOK_KEY_SECRET_NAME).toEqual(
      template.Outputs.WebhookSigningKeyArn?.Value,
    );
  });

  it('give the SVID prefix and trust domain every function that names SVIDs is given', () => {
    const given = (variable: string) =>
      resources('AWS::Lambda::Function')
        .map(
          ([, fn]) =>
            (fn.Properties.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables,
        )
        .filter((variables) => variables?.[variable] !== undefined)
        .map((variables) => variables?.[variable]);
    for (const [variable, output] of [
      ['SVID_SECRET_PREFIX', 'SvidSecretPrefix'],
      ['TRUST_DOMAIN', 'TrustDomain'],
    ] as const) {
      expect(given(variable).length).toBeGreaterThan(0);
      expect(new Set(given(variable))).toEqual(new Set([template.Outputs[output]?.Value]));
    }
  });
});

describe('the agent code bucket', () => {
  it('keeps every build, blocks public access, and serves only the enrolled accounts, over TLS', () => {
    const bucket = resource('AgentCodeBucket').Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const [tlsOnly, enrolled] = (
      resource('AgentCodeBucketPolicy').Properties.PolicyDocument as { Statement: Json[] }
    ).Statement as [Record<string, Json>, { 'Fn::If': [string, Record<string, Json>, Json] }];
    expect(tlsOnly).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const [condition, allow] = enrolled['Fn::If'];
    expect(condition).toBe('HasReaderAccounts');
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': '${AgentCodeBucket.Arn}/sync-agent/*' },
      Condition: { StringEquals: { 'aws:PrincipalAccount': expect.anything() } },
    });
  });
});
