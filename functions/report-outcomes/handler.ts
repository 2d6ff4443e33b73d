import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDbAccountStatusLog } from '../shared/ports/account-status/dynamodb-account-status';
import { EventBridgeAuditSink } from '../shared/ports/audit-sink/eventbridge-audit-sink';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './report-outcomes';

const config = loadConfig('report-outcomes', settings);
const region = sdkClientConfig(config.AWS_REGION);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'report-outcomes' }),
  audit: new EventBridgeAuditSink(new EventBridgeClient(region), { busName: config.AUDIT_BUS_NAME }),
  accountStatus: new DynamoDbAccountStatusLog(new DynamoDBClient(region), {
    tableName: config.ACCOUNT_STATUS_TABLE,
  }),
  now: () => new Date(),
});
