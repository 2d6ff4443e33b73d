import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDbAccountStatusLog } from '../../functions/shared/ports/account-status/dynamodb-account-status';
import { EventBridgeAuditSink } from '../../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import { SecretsManagerSvidStore } from '../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import { SecretsManagerWebhookKeys } from '../../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import type { DeployedStack } from '../deployed-stack';
import { AwsRuns } from '../runs/aws-runs';
import type { Deployment, OpsStores } from './deployment';

/** A stack deployed on AWS: every state machine, bus, table, key and URL comes from its outputs. */
export class AwsDeployment implements Deployment {
  readonly runs: AwsRuns;
  readonly failedStatuses = ['FAILED'] as const;
  readonly runsRecordedIn = undefined;

  constructor(
    private readonly stack: DeployedStack,
    /** The audit bus replays are announced on; default: the stack's AuditBusName output. */
    private readonly busName?: string,
  ) {
    const config = stack.clientConfig;
    this.runs = new AwsRuns({
      sfn: new SFNClient(config),
      audit: async () =>
        new EventBridgeAuditSink(new EventBridgeClient(config), { busName: await this.auditBusName() }),
      stack,
    });
  }

  async readyToChange(): Promise<undefined> {
    // A stack without the audit bus stops the command here, before anything is started.
    await this.auditBusName();
    return undefined;
  }

  async stores(): Promise<OpsStores> {
    const { stack } = this;
    const { AccountStatusTableName: tableName, SvidSecretPrefix: prefix } = await stack.outputs(
      'AccountStatusTableName',
      'SvidSecretPrefix',
    );
    const store = new SecretsManagerSvidStore(new SecretsManagerClient(this.stack.clientConfig), {});
    return {
      svids: {
        // Another stage may keep its SVIDs in the same account: only this stack's prefix is its own.
        listOwned: async () => (await store.listOwned()).filter((s) => s.secretName.startsWith(prefix)),
        read: (arn) => store.read(arn),
        policy: (arn) => store.policy(arn),
      },
      accountStatus: new DynamoDbAccountStatusLog(new DynamoDBClient(this.stack.clientConfig), {
        tableName,
      }),
      trustDomain: () => stack.output('TrustDomain'),
      where: `${stack.stackName} (Secrets Manager ${prefix}*, table ${tableName})`,
    };
  }

  webhookUrl(): Promise<string> {
    return this.stack.output('WebhookUrl');
  }

  async webhookKey(): Promise<Uint8Array> {
    const [current] = await new SecretsManagerWebhookKeys(new SecretsManagerClient(this.stack.clientConfig), {
      secretName: await this.stack.output('WebhookSigningKeyArn'),
    }).keys();
    // keys() always yields the current key first, or throws.
    return current as Uint8Array;
  }

  async close(): Promise<void> {}

  private auditBusName(): Promise<string> {
    return this.busName !== undefined ? Promise.resolve(this.busName) : this.stack.output('AuditBusName');
  }
}
