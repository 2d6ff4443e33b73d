import { DeployedStack } from '../deployed-stack';
import { envOf, openLocalStack, syncStackOptions } from '../local-stack-options';
import { AwsDeployment } from './aws-deployment';
import type { Deployment } from './deployment';
import { LocalDeployment } from './local-deployment';

/** The flags that say where a command reads and acts (OPS_OPTIONS), and what a local run is started with. */
export interface DeploymentFlags {
  'data-dir': string;
  aws: boolean;
  region?: string | undefined;
  profile?: string | undefined;
  stage: string;
  stack?: string | undefined;
  enrollments?: string | undefined;
  'keywhiz-dir'?: string | undefined;
  reconfigure?: boolean | undefined;
}

export interface DeploymentOptions {
  /** The command's usage, shown when the data directory refuses the registry or Keywhiz directory given. */
  usage: string;
  /** Locally: the configuration, as environment variables give it (default: this process's). */
  env?: Record<string, string | undefined>;
  /** On AWS: the audit bus replays are announced on (default: the stack's AuditBusName output). */
  busName?: string | undefined;
}

/** The deployment the flags name (the local data directory, or with --aws the deployed stack), or what is wrong with them. */
export const openDeployment = (
  flags: DeploymentFlags,
  options: DeploymentOptions,
): Deployment | { problems: string[] } => {
  const problems = awsOnlyProblems(flags);
  if (problems.length > 0) return { problems };
  if (!flags.aws) {
    const stackOptions = syncStackOptions({ ...flags, reconfigure: flags.reconfigure ?? false });
    return new LocalDeployment(flags['data-dir'], options.env ?? envOf(process.env), () =>
      openLocalStack(stackOptions, options.usage),
    );
  }
  const stack = new DeployedStack({
    stage: flags.stage,
    stackName: flags.stack,
    region: flags.region,
    profile: flags.profile,
  });
  return new AwsDeployment(stack, options.busName);
};

/** The AWS-only flags given without --aws. */
const awsOnlyProblems = (flags: DeploymentFlags): string[] =>
  flags.aws
    ? []
    : (['region', 'profile', 'stack'] as const)
        .filter((flag) => flags[flag] !== undefined)
        .map((flag) => `--${flag} needs --aws`);
