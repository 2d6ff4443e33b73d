import { DeployedStack, stackNameOf } from './deployed-stack';
import { DEFAULT_DATA_DIR } from './rotate';

/** The options every operator command shares: where to look (the local data directory, or AWS) and how to print. */
export const OPS_OPTIONS = {
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
  aws: { type: 'boolean', default: false },
  region: { type: 'string' },
  profile: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  stack: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** What --aws reads its ARNs and names from, in every command's usage. */
export const AWS_STACK_USAGE = `  --stage S            with --aws: the serverless stage deployed (default: dev); its stack is trust-bridge-<stage>
  --stack NAME         with --aws: the CloudFormation stack to read instead (default: ${stackNameOf({ stage: '<stage>' })})
                       (--aws takes every state machine, bus, table, key and URL from the stack's outputs)`;

export const OPS_OPTIONS_USAGE = `  --data-dir DIR       the local stack's data directory (default: ${DEFAULT_DATA_DIR})
  --aws                read and act on the deployed stack instead (credentials from the usual AWS chain)
  --region R           with --aws: the stack's region (default: the AWS config's)
  --profile P          with --aws: the AWS profile to use
${AWS_STACK_USAGE}
  --json               print JSON instead of a table`;

/** Where an operator command reads and acts: the deployed stack is described once, on first need. */
export type OpsTarget =
  | { kind: 'local'; dataDir: string }
  | { kind: 'aws'; region?: string; profile?: string; stack: DeployedStack };

interface OpsValues {
  'data-dir': string;
  aws: boolean;
  region?: string;
  profile?: string;
  stage: string;
  stack?: string;
}

/** The AWS-only flags given without --aws. */
export const awsOnlyProblems = (values: {
  aws: boolean;
  region?: string | undefined;
  profile?: string | undefined;
  stack?: string | undefined;
}): string[] =>
  values.aws
    ? []
    : (['region', 'profile', 'stack'] as const)
        .filter((flag) => values[flag] !== undefined)
        .map((flag) => `--${flag} needs --aws`);

/** The target the flags name, or the problems with them (AWS-only flags without --aws). */
export const opsTargetOf = (values: OpsValues): OpsTarget | { problems: string[] } => {
  const problems = awsOnlyProblems(values);
  if (problems.length > 0) return { problems };
  if (!values.aws) return { kind: 'local', dataDir: values['data-dir'] };
  const client = {
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
  };
  return {
    kind: 'aws',
    ...client,
    stack: new DeployedStack({ stage: values.stage, stackName: values.stack, ...client }),
  };
};

/** The configuration every AWS SDK client of an operator command gets. */
export const awsClientConfig = (target: { region?: string | undefined; profile?: string | undefined }) => ({
  ...(target.region !== undefined ? { region: target.region } : {}),
  ...(target.profile !== undefined ? { profile: target.profile } : {}),
});
