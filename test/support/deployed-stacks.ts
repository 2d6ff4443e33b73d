/**
 * CloudFormation mocked at the SDK for the operator CLI's `--aws` tests: every stack is missing (the
 * ValidationError CloudFormation answers) until a test deploys one with its outputs.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';

const DescribeStacks = DescribeStacksCommand as never;

export function mockDeployedStacks() {
  const cloudFormation = mockClient(CloudFormationClient as never);
  return {
    cloudFormation,
    /** Forgets every stack and every call. */
    reset(): void {
      cloudFormation.reset();
      cloudFormation.on(DescribeStacks).callsFake((input: { StackName: string }) => {
        throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), {
          name: 'ValidationError',
        });
      });
    },
    /** DescribeStacks for `stackName` answers these outputs. */
    deploy(stackName: string, outputs: Record<string, string>): void {
      cloudFormation.on(DescribeStacks, { StackName: stackName } as never).resolves({
        Stacks: [
          {
            StackName: stackName,
            StackStatus: 'UPDATE_COMPLETE',
            CreationTime: new Date(),
            Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      } as never);
    },
    /** The stacks described so far, in order. */
    described(): string[] {
      return cloudFormation
        .commandCalls(DescribeStacks)
        .map((c) => (c.args[0] as DescribeStacksCommand).input.StackName as string);
    },
  };
}
