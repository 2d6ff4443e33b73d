/**
 * Packages serverless.yml with osls, with no AWS credentials and TCP/DNS refused, then checks the generated
 * CloudFormation: runtimes, one role per function, bound ASL placeholders, the schedule, least privilege.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configSchema } from '../../functions/shared/config';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const osls = join(root, 'node_modules/osls/bin/serverless.js');

// Loaded into every Node process osls starts: any TCP connection or DNS lookup throws, so a passing package
// proves it needs no network. Unix-socket and pipe IPC (esbuild's service) stay allowed.
const offlineGuard = `
import dns from 'node:dns';
import net from 'node:net';
const refuse = () => { throw new Error('network access is disabled in the deploy test'); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'number' || (first && first.port !== undefined)) refuse();
  return connect.apply(this, args);
};
dns.lookup = refuse;
dns.promises.lookup = refuse;
`;
const nodeOptions = `--import=data:text/javascript;base64,${Buffer.from(offlineGuard).toString('base64')}`;

/** No credentials, no profile, an empty HOME: nothing for osls or the AWS SDK to find or prompt for. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, NODE_OPTIONS: nodeOptions };
}

type Json = unknown;
type Resource = { Type: string; Properties: Record<string, Json>; DependsOn?: string[] };
type Statement = {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
};

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

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1] ?? '').filter((name) => !name.startsWith('AWS::'));

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

let workDir: string;
let artifacts: string;
let template: { Resources: Record<string, Resource>; Outputs: Record<string, Json> };

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

function roleStatements(role: Resource): Statement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

function allowedResources(role: Resource, action: string): Json[] {
  return roleStatements(role)
    .filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
    .flatMap((s) => list(s.Resource));
}

function stateMachineDefinition(machine: Resource): string {
  const definition = machine.Properties.DefinitionString;
  if (typeof definition !== 'string') throw new Error('DefinitionString is not the ASL text as written');
  return definition;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'trust-bridge-package-'));
  artifacts = join(workDir, 'package');
  await run(process.execPath, [osls, 'package', '--stage', 'ci', '--package', artifacts], {
    cwd: root,
    env: offlineEnv(workDir),
    timeout: 120_000,
  });
  template = JSON.parse(await readFile(join(artifacts, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

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
  ].map((name) => `${name}LambdaFunction`);

  it('are the six rotation steps, on nodejs22.x and arm64', () => {
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

  it('read only configuration the code knows, and get every setting the brief requires', () => {
    const known = new Set([...Object.keys(configSchema.shape), 'NODE_OPTIONS']);
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      const variables = Object.keys((fn.Properties.Environment as { Variables: object }).Variables);
      expect(variables.filter((name) => !known.has(name))).toEqual([]);
      expect(variables).toEqual(
        expect.arrayContaining([
          'TRUST_DOMAIN',
          'CA_ARN',
          'ENROLLMENTS_URL',
          'SVID_KMS_KEY_ID',
          'AUDIT_BUS_NAME',
        ]),
      );
    }
  });

  it('can touch the SVID key only through Secrets Manager', () => {
    const kmsStatements = resources('AWS::IAM::Role')
      .flatMap(([, role]) => roleStatements(role))
      .filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(kmsStatements.length).toBeGreaterThan(0);
    for (const statement of kmsStatements) {
      expect(statement.Condition?.StringEquals?.['kms:ViaService']).toEqual({
        'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com`,
      });
    }
  });
});

describe('state machines', () => {
  const machines = () => resources('AWS::StepFunctions::StateMachine');

  it('deploy rotate-svids and rotate-svids-chunk from their ASL files, unchanged', async () => {
    const files = {
      RotateSvidsStateMachine: 'rotate-svids.asl.json',
      RotateSvidsChunkStateMachine: 'rotate-svids-chunk.asl.json',
    };
    expect(
      machines()
        .map(([id]) => id)
        .sort(),
    ).toEqual(Object.keys(files).sort());
    for (const [id, file] of Object.entries(files)) {
      const asl = JSON.parse(await readFile(join(root, 'statemachines', file), 'utf8'));
      expect(JSON.parse(stateMachineDefinition(resource(id)))).toEqual(asl);
      expect(resource(id).Properties.StateMachineType).toBe('STANDARD');
    }
  });

  it(`bind every \${Placeholder} in their definitions, and nothing else`, () => {
    for (const [, machine] of machines()) {
      const used = new Set(placeholders(stateMachineDefinition(machine)));
      const bound = Object.keys((machine.Properties.DefinitionSubstitutions ?? {}) as object);
      expect(used.size).toBeGreaterThan(0);
      expect(new Set(bound)).toEqual(used);
    }
  });

  it('have roles that may invoke exactly the functions and child workflows their definitions name', () => {
    for (const [, machine] of machines()) {
      const role = resource(getAttTarget(machine.Properties.RoleArn) ?? '');
      const substitutions = Object.values((machine.Properties.DefinitionSubstitutions ?? {}) as object);
      const functionArns = substitutions.filter((v) => getAttTarget(v)?.endsWith('LambdaFunction'));
      const childMachines = substitutions.filter((v) => (v as { Ref?: string }).Ref !== undefined);
      expect(allowedResources(role, 'lambda:InvokeFunction')).toEqual(expect.arrayContaining(functionArns));
      expect(allowedResources(role, 'lambda:InvokeFunction')).toHaveLength(functionArns.length);
      expect(allowedResources(role, 'states:StartExecution')).toEqual(childMachines);
      const trust = role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] };
      expect(trust.Statement.map((s) => s.Principal)).toEqual([{ Service: 'states.amazonaws.com' }]);
    }
  });

  it('let the parent wait on its child executions (startExecution.sync)', () => {
    const role = resource('RotateSvidsStateMachineRole');
    expect(allowedResources(role, 'states:DescribeExecution')).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:\${RotateSvidsChunkStateMachine.Name}:*`,
      },
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

describe('the schedule', () => {
  it('starts rotate-svids every 12 hours with an empty input', () => {
    const rules = resources('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] ?? [];
    expect(rule?.Properties.ScheduleExpression).toBe('rate(12 hours)');
    expect(rule?.Properties.State).toBe('ENABLED');
    const targets = rule?.Properties.Targets as { Arn: Json; Input: string; RoleArn: Json }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ Ref: 'RotateSvidsStateMachine' });
    expect(JSON.parse(targets[0]?.Input ?? '')).toEqual({});
    const role = resource(getAttTarget(targets[0]?.RoleArn) ?? '');
    expect(roleStatements(role)).toEqual([
      expect.objectContaining({
        Action: ['states:StartExecution'],
        Resource: { Ref: 'RotateSvidsStateMachine' },
      }),
    ]);
  });
});

describe('IAM policies', () => {
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
    const environment = resource('IssueSvidLambdaFunction').Properties.Environment as {
      Variables: Record<string, Json>;
    };
    expect(environment.Variables.ISSUER_ROLE_ARN).toEqual(issuer?.Condition?.ArnEquals?.['aws:PrincipalArn']);
  });
});
