import { DEFAULT_DATA_DIR } from './rotate';

/** The options every operator command shares: where to look (the local data directory, or AWS) and how to print. */
export const OPS_OPTIONS = {
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
  aws: { type: 'boolean', default: false },
  region: { type: 'string' },
  profile: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  json: { type: 'boolean', default: false },
} as const;

export const OPS_OPTIONS_USAGE = `  --data-dir DIR       the local stack's data directory (default: ${DEFAULT_DATA_DIR})
  --aws                read and act on the deployed stack instead (credentials from the usual AWS chain)
  --region R           with --aws: the stack's region (default: the AWS config's)
  --profile P          with --aws: the AWS profile to use
  --stage S            with --aws: the serverless stage deployed (default: dev)
  --json               print JSON instead of a table`;

/** Where an operator command reads and acts. */
export type OpsTarget =
  { kind: 'local'; dataDir: string } | { kind: 'aws'; stage: string; region?: string; profile?: string };

interface OpsValues {
  'data-dir': string;
  aws: boolean;
  region?: string;
  profile?: string;
  stage: string;
}

/** The target the flags name, or the problems with them (AWS-only flags without --aws). */
export const opsTargetOf = (values: OpsValues): OpsTarget | { problems: string[] } => {
  if (!values.aws) {
    const awsOnly = (['region', 'profile'] as const).filter((flag) => values[flag] !== undefined);
    if (awsOnly.length > 0) return { problems: awsOnly.map((flag) => `--${flag} needs --aws`) };
    return { kind: 'local', dataDir: values['data-dir'] };
  }
  return {
    kind: 'aws',
    stage: values.stage,
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
  };
};

/** The configuration every AWS SDK client of an operator command gets. */
export const awsClientConfig = (target: { region?: string | undefined; profile?: string | undefined }) => ({
  ...(target.region !== undefined ? { region: target.region } : {}),
  ...(target.profile !== undefined ? { profile: target.profile } : {}),
});

/** The name serverless.yml gives a deployed state machine: `trust-bridge-<stage>-<machine>`. */
export const deployedStateMachineName = (stage: string, machine: string) =>
  `trust-bridge-${stage}-${machine}`;
