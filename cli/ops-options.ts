import { accountIdSchema } from '../functions/shared/domain/enrollment';
import { stackNameOf } from './deployed-stack';
import type { OpsStores } from './deployment/deployment';
import { type DeploymentFlags, openDeployment } from './deployment/open-deployment';
import { DEFAULT_DATA_DIR } from './local-stack-options';

/** Where a command reads and acts: the local data directory, or the deployed stack (--aws). */
export const DEPLOYMENT_OPTIONS = {
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
  aws: { type: 'boolean', default: false },
  region: { type: 'string' },
  profile: { type: 'string' },
  stage: { type: 'string', default: 'dev' },
  stack: { type: 'string' },
} as const;

/** The options every operator command shares: where to look, and how to print. */
export const OPS_OPTIONS = { ...DEPLOYMENT_OPTIONS, json: { type: 'boolean', default: false } } as const;

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

/** What the operator commands take besides their arguments: tests pass a clock, an environment, an error sink. */
export interface OpsCommandOptions {
  now?: () => Date;
  env?: Record<string, string>;
  error?: (line: string) => void;
}

/**
 * Checks the shared flags and --account, then opens the stores they name (status and verify); on a problem it
 * prints why and gives the exit code (2 for a usage error, 1 when the stores cannot be opened).
 */
export const openOpsStores = async (
  flags: DeploymentFlags & { account?: string | undefined },
  command: { usage: string; accountRequired: boolean },
  options: OpsCommandOptions,
): Promise<{ stores: OpsStores; account: string | undefined } | { exitCode: number }> => {
  const error = options.error ?? console.error;
  const deployment = openDeployment(flags, {
    usage: command.usage,
    ...(options.env ? { env: options.env } : {}),
  });
  const { account } = flags;
  const problems = [
    ...('problems' in deployment ? deployment.problems : []),
    ...(command.accountRequired && account === undefined ? ['--account is required'] : []),
    ...(account !== undefined && !accountIdSchema.safeParse(account).success
      ? [`--account ${account} is not an AWS account id (12 digits)`]
      : []),
  ];
  if ('problems' in deployment || problems.length > 0) {
    error(`${problems.join('; ')}\n\n${command.usage}`);
    return { exitCode: 2 };
  }
  try {
    // Reading the stores opens nothing to close.
    return { stores: await deployment.stores(), account };
  } catch (e) {
    error((e as Error).message);
    return { exitCode: 1 };
  }
};
