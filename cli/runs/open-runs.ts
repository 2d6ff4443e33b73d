import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeAuditSink } from '../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import type { LocalStack } from '../../local-stack/stack';
import { awsClientConfig, type OpsTarget } from '../ops-options';
import { spanMs } from '../span';
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

/** `--since`: a span back from now (30m, 24h, 7d) or an ISO-8601 time; an Error saying what is accepted. */
export const parseSince = (text: string, now = new Date()): Date | Error => {
  const span = spanMs(text, ['m', 'h', 'd']);
  if (span !== undefined) return new Date(now.getTime() - span);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    return new Error(`--since ${JSON.stringify(text)}: give a span (30m, 24h, 7d) or an ISO-8601 time`);
  }
  return new Date(at);
};
