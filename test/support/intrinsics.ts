/**
 * Resolves a CloudFormation template's intrinsic functions for one concrete deployment (account, region,
 * parameters), as CloudFormation would when it creates the stack: the policies a test then evaluates are the ones
 * AWS would attach. Physical names follow the resources' own name properties; a resource without one gets a name
 * derived from the stack and its logical id, like CloudFormation's generated names. Only what a test reads is
 * resolved, and anything this resolver does not know (an attribute, a function) throws rather than guessing.
 */
import type { CfnResource, CfnTemplate, Json } from './packaged-stack';

export interface Deployment {
  accountId: string;
  region: string;
  partition?: string;
  stackName?: string;
  /** Parameter values; a parameter left out takes its Default, and one without a Default is an error. */
  parameters?: Record<string, string>;
}

export interface ResolvedStack {
  deployment: Required<Omit<Deployment, 'parameters'>>;
  /** Whether each condition of the template holds for this deployment. */
  conditions: Record<string, boolean>;
  /** The logical ids of the resources this deployment creates (conditions applied), with their types. */
  resources: Record<string, string>;
  /** A resource's Properties, resolved. */
  properties(logicalId: string): Record<string, unknown>;
  ref(logicalId: string): unknown;
  getAtt(logicalId: string, attribute: string): unknown;
  output(name: string): unknown;
  /** Any template fragment, resolved. */
  resolve(value: Json): unknown;
}

const NO_VALUE = Symbol('AWS::NoValue');

export function resolveStack(template: CfnTemplate, deployment: Deployment): ResolvedStack {
  const { accountId, region } = deployment;
  const partition = deployment.partition ?? 'aws';
  const stackName = deployment.stackName ?? 'trust-bridge';
  const parameters = parameterValues(template, deployment.parameters ?? {});

  const pseudo: Record<string, unknown> = {
    'AWS::AccountId': accountId,
    'AWS::Region': region,
    'AWS::Partition': partition,
    'AWS::StackName': stackName,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::NoValue': NO_VALUE,
  };

  const conditions: Record<string, boolean> = {};
  const condition = (name: string): boolean => {
    if (!(name in conditions)) {
      const definition = template.Conditions?.[name];
      if (definition === undefined) throw new Error(`unknown condition ${name}`);
      conditions[name] = resolve(definition) === true;
    }
    return conditions[name] as boolean;
  };

  const resource = (logicalId: string): CfnResource => {
    const found = template.Resources[logicalId];
    if (!found) throw new Error(`unknown resource ${logicalId}`);
    if (found.Condition !== undefined && !condition(found.Condition)) {
      throw new Error(`resource ${logicalId} is not created: its condition ${found.Condition} is false`);
    }
    return found;
  };
  const properties = (logicalId: string): Record<string, unknown> =>
    resolve(resource(logicalId).Properties ?? {}) as Record<string, unknown>;
  const nameOf = (logicalId: string, property: string): string => {
    const name = resolve(resource(logicalId).Properties?.[property] ?? null);
    return typeof name === 'string' ? name : `${stackName}-${logicalId}`;
  };

  // CloudFormation names a bucket from the stack and logical id, in lower case as S3 requires.
  const bucketName = (logicalId: string) => nameOf(logicalId, 'BucketName').toLowerCase();

  const arn = (service: string, rest: string, inRegion = true) =>
    `arn:${partition}:${service}:${inRegion ? region : ''}:${accountId}:${rest}`;

  const ref = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    if (name in parameters) return parameters[name];
    const { Type } = resource(name);
    switch (Type) {
      case 'AWS::IAM::Role':
        return nameOf(name, 'RoleName');
      case 'AWS::Lambda::Function':
        return nameOf(name, 'FunctionName');
      case 'AWS::Logs::LogGroup':
        return nameOf(name, 'LogGroupName');
      case 'AWS::Events::EventBus':
        return nameOf(name, 'Name');
      case 'AWS::DynamoDB::Table':
        return nameOf(name, 'TableName');
      case 'AWS::KMS::Key':
        return keyId(name);
      case 'AWS::SecretsManager::Secret':
        return arn('secretsmanager', `secret:${nameOf(name, 'Name')}-${suffixOf(name)}`);
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${nameOf(name, 'StateMachineName')}`);
      case 'AWS::S3::Bucket':
        return bucketName(name);
      default:
        throw new Error(`Ref to ${name} (${Type}) is not known to this resolver`);
    }
  };

  const getAtt = (name: string, attribute: string): unknown => {
    const { Type } = resource(name);
    const key = `${Type}.${attribute}`;
    switch (key) {
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${accountId}:role/${nameOf(name, 'RoleName')}`;
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${nameOf(name, 'FunctionName')}`);
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${nameOf(name, 'LogGroupName')}:*`);
      case 'AWS::Events::EventBus.Arn':
        return arn('events', `event-bus/${nameOf(name, 'Name')}`);
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${nameOf(name, 'TableName')}`);
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${keyId(name)}`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref(name);
      case 'AWS::StepFunctions::StateMachine.Name':
        return nameOf(name, 'StateMachineName');
      case 'AWS::S3::Bucket.Arn':
        return `arn:${partition}:s3:::${bucketName(name)}`;
      default:
        throw new Error(`Fn::GetAtt ${name}.${attribute} (${Type}) is not known to this resolver`);
    }
  };

  const sub = (text: string, variables: Record<string, unknown>): string =>
    text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const value =
        name in variables
          ? variables[name]
          : name.includes('.') && !name.startsWith('AWS::')
            ? getAtt(name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1))
            : ref(name);
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new Error(`Fn::Sub: \${${name}} is not a string`);
      }
      return String(value);
    });

  const functions: Record<string, (argument: Json) => unknown> = {
    Ref: (name) => ref(name as string),
    Condition: (name) => condition(name as string),
    'Fn::GetAtt': (argument) => {
      const [name, attribute] =
        typeof argument === 'string' ? argument.split(/\.(.*)/) : (argument as string[]);
      return getAtt(name as string, attribute as string);
    },
    'Fn::Sub': (argument) => {
      if (typeof argument === 'string') return sub(argument, {});
      const [text, variables] = argument as [string, Record<string, Json>];
      const resolved = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
      return sub(text, resolved);
    },
    'Fn::Join': (argument) => {
      const [delimiter, items] = argument as [string, Json];
      return (resolve(items) as unknown[]).join(delimiter);
    },
    'Fn::Split': (argument) => {
      const [delimiter, text] = argument as [string, Json];
      return (resolve(text) as string).split(delimiter);
    },
    'Fn::Select': (argument) => {
      const [index, items] = argument as [Json, Json];
      const list = resolve(items) as unknown[];
      const at = Number(resolve(index));
      if (!(at in list)) throw new Error(`Fn::Select: index ${at} is outside a list of ${list.length}`);
      return list[at];
    },
    'Fn::If': (argument) => {
      const [name, whenTrue, whenFalse] = argument as [string, Json, Json];
      return resolve(condition(name) ? whenTrue : whenFalse);
    },
    'Fn::Equals': (argument) => {
      const [a, b] = (argument as Json[]).map(resolve);
      return JSON.stringify(a) === JSON.stringify(b);
    },
    'Fn::Not': (argument) => !resolve((argument as Json[])[0]),
    'Fn::And': (argument) => (argument as Json[]).every((c) => resolve(c) === true),
    'Fn::Or': (argument) => (argument as Json[]).some((c) => resolve(c) === true),
  };

  const resolve = (value: Json): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (
      entries.length === 1 &&
      first &&
      (first[0] === 'Ref' || first[0].startsWith('Fn::') || first[0] === 'Condition')
    ) {
      const fn = functions[first[0]];
      if (!fn) throw new Error(`${first[0]} is not known to this resolver`);
      return fn(first[1]);
    }
    return Object.fromEntries(
      entries.map(([k, v]) => [k, resolve(v)] as const).filter(([, v]) => v !== NO_VALUE),
    );
  };

  for (const name of Object.keys(template.Conditions ?? {})) condition(name);
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Condition === undefined || condition(r.Condition))
      .map(([id, r]) => [id, r.Type]),
  );

  return {
    deployment: { accountId, region, partition, stackName },
    conditions,
    resources,
    properties,
    ref,
    getAtt,
    output: (name) => {
      const output = template.Outputs?.[name];
      if (!output) throw new Error(`unknown output ${name}`);
      return resolve(output.Value);
    },
    resolve,
  };
}

function parameterValues(template: CfnTemplate, given: Record<string, string>): Record<string, unknown> {
  const declared = template.Parameters ?? {};
  const unknown = Object.keys(given).filter((name) => !(name in declared));
  if (unknown.length > 0) throw new Error(`the template declares no parameter ${unknown.join(', ')}`);
  return Object.fromEntries(
    Object.entries(declared).map(([name, { Type, Default }]) => {
      const value = given[name] ?? (Default === undefined ? undefined : String(Default));
      if (value === undefined) throw new Error(`parameter ${name} has no value and no default`);
      return [name, Type === 'CommaDelimitedList' ? (value === '' ? [] : value.split(',')) : value];
    }),
  );
}

/** A stable, well-formed id per logical id: KMS key ids are UUIDs. */
function keyId(logicalId: string): string {
  const hex = Buffer.from(logicalId).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Secrets Manager appends six random characters to a secret's ARN. */
function suffixOf(logicalId: string): string {
  return Buffer.from(logicalId).toString('base64url').slice(0, 6).padEnd(6, 'x');
}
