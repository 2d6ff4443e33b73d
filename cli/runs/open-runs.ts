import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeAuditSink } from '../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import type { LocalStack } from '../../local-stack/stack';
import { awsClientConfig, type OpsTarget } from '../ops-options';
import { AwsRuns } from './aws-runs';
import { LocalRuns } from './local-runs';
import type { WorkflowRuns } from './workflow-runs';

export interface RunsOptions {
  /** Locally: opens the stack that runs executions, on first need (without it, runs are only listed). */
  openStack?: () => Promise<LocalStack>;
  /** On AWS: the audit bus replays are announced on (default: the stack's AuditBusName output). */
  busName?: string;
}

/** The runs the flags point at: the local data directory's, or the deployed stage's on AWS. */
export const openRuns = (target: OpsTarget, options: RunsOptions = {}): WorkflowRuns => {
  if (target.kind === 'local') {
    const { openStack } = options;
    return new LocalRuns(
      target.dataDir,
      openStack ?? (() => Promise.reject(new Error('this command only reads the local runs'))),
    );
  }
  const config = awsClientConfig(target);
  const { stack } = target;
  return new AwsRuns({
    sfn: new SFNClient(config),
    audit: async () =>
      new EventBridgeAuditSink(new EventBridgeClient(config), {
        busName: options.busName ?? (await stack.output('AuditBusName')),
      }),
    stack,
  });
};
