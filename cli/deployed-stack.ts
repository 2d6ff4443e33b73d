import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { SDK_MAX_ATTEMPTS } from '../functions/shared/aws/clients';

/**
 * The deployed stack's outputs the operator commands act on: with `--aws` nothing is derived from a naming
 * convention, everything comes from `DescribeStacks`. Each name is an Output of the packaged template
 * (test/infra/stack.test.ts checks every one of them), so a renamed output fails a test, not an operator.
 */
export const STACK_OUTPUTS = [
  // serverless-step-functions makes `<id>Arn` for each state machine of serverless.yml.
  'RotateSvidsStateMachineArn',
  'RotateSvidsChunkStateMachineArn',
  'SyncSecretsStateMachineArn',
  'SyncSecretsChunkStateMachineArn',
  // infra/audit-bus.yml
  'AuditBusName',
  // infra/account-status.yml
  'AccountStatusTableName',
  // infra/webhook.yml
  'WebhookSigningKeyArn',
  // infra/agent-code.yml
  'AgentCodeBucketName',
  // infra/outputs.yml
  'WebhookUrl',
  'SvidSecretPrefix',
  'TrustDomain',
] as const;
export type StackOutput = (typeof STACK_OUTPUTS)[number];

/** The output holding each state machine's ARN, by the machine's own name. */
export const STATE_MACHINE_OUTPUTS = {
  'rotate-svids': 'RotateSvidsStateMachineArn',
  'rotate-svids-chunk': 'RotateSvidsChunkStateMachineArn',
  'sync-secrets': 'SyncSecretsStateMachineArn',
  'sync-secrets-chunk': 'SyncSecretsChunkStateMachineArn',
} as const satisfies Record<string, StackOutput>;

/** Which deployment: osls names the stack `<service>-<stage>`; `--stack` names another. */
export interface StackLocation {
  stage: string;
  stackName?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
}

/** serverless.yml's service; osls deploys stage S as the stack `trust-bridge-S`. */
export const stackNameOf = (location: Pick<StackLocation, 'stage' | 'stackName'>): string =>
  location.stackName ?? `trust-bridge-${location.stage}`;

/** The stack is not there (wrong stage, region or account), or lacks an output this CLI reads. */
export class DeployedStackError extends Error {
  override readonly name = 'DeployedStackError';
}

/**
 * One deployed stack, described at most once (on first need) however many outputs a command asks for: open one
 * per command run. Every lookup names the stack, and the output, when something is missing.
 */
export class DeployedStack {
  readonly stackName: string;
  /**
   * The region and profile given, if any: every AWS SDK client of the command reads the stack's account with them,
   * making as many attempts per call as the functions' clients (the adapters it shares with them retry no more).
   */
  readonly clientConfig: { region?: string; profile?: string; maxAttempts: number };
  private described: Promise<Map<string, string>> | undefined;

  constructor(
    private readonly location: StackLocation,
    private readonly client: CloudFormationClient = new CloudFormationClient(clientConfigOf(location)),
  ) {
    this.stackName = stackNameOf(location);
    this.clientConfig = clientConfigOf(location);
  }

  /** The named outputs' values; rejects naming every one the stack lacks. */
  async outputs<K extends StackOutput>(...names: K[]): Promise<Record<K, string>> {
    const outputs = await this.describe();
    const missing = names.filter((name) => !outputs.has(name));
    if (missing.length > 0) {
      const which = missing.length === 1 ? `output ${missing[0]}` : `outputs ${missing.join(', ')}`;
      throw new DeployedStackError(`stack ${this.stackName} has no ${which}: deploy this version first`);
    }
    return Object.fromEntries(names.map((name) => [name, outputs.get(name)])) as Record<K, string>;
  }

  /** One output's value. */
  async output(name: StackOutput): Promise<string> {
    return (await this.outputs(name))[name];
  }

  private describe(): Promise<Map<string, string>> {
    this.described ??= this.load();
    return this.described;
  }

  private async load(): Promise<Map<string, string>> {
    let stacks;
    try {
      ({ Stacks: stacks } = await this.client.send(new DescribeStacksCommand({ StackName: this.stackName })));
    } catch (error) {
      // CloudFormation answers a missing stack with ValidationError "Stack with id X does not exist".
      const { name, message } = error as { name?: string; message?: string };
      if (name === 'ValidationError' && /does not exist/.test(message ?? '')) {
        throw new DeployedStackError(
          `no stack ${this.stackName} in ${await this.regionName()}: deploy it (npx osls deploy --stage ` +
            `${this.location.stage}), or give the --stage, --stack or --region it was deployed with`,
        );
      }
      throw error;
    }
    const [stack] = stacks ?? [];
    if (!stack) throw new DeployedStackError(`no stack ${this.stackName} in ${await this.regionName()}`);
    return new Map(
      (stack.Outputs ?? []).flatMap((o: Output) =>
        o.OutputKey !== undefined && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  }

  private async regionName(): Promise<string> {
    if (this.location.region !== undefined) return `region ${this.location.region}`;
    try {
      return `region ${await this.client.config.region()}`;
    } catch {
      return 'the default region';
    }
  }
}

const clientConfigOf = (location: StackLocation) => ({
  maxAttempts: SDK_MAX_ATTEMPTS,
  ...(location.region !== undefined ? { region: location.region } : {}),
  ...(location.profile !== undefined ? { profile: location.profile } : {}),
});
