import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbDeliveryLog } from '../shared/ports/delivery-log/dynamodb-delivery-log';
import { EventBridgeSecretChanges } from '../shared/ports/secret-changes/eventbridge-secret-changes';
import { SecretsManagerWebhookKeys } from '../shared/ports/webhook-keys/secrets-manager-webhook-keys';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './receive-webhook';

const config = loadConfig('receive-webhook', settings);
const region = sdkClientConfig(config.AWS_REGION);

export const handler = createHandler({
  logger: new Logger({ serviceName: 'receive-webhook' }),
  webhookKeys: new SecretsManagerWebhookKeys(new SecretsManagerClient(region), {
    secretName: config.WEBHOOK_KEY_SECRET_NAME,
  }),
  deliveries: new DynamoDbDeliveryLog(new DynamoDBClient(region), {
    tableName: config.WEBHOOK_DELIVERY_TABLE,
  }),
  secretChanges: new EventBridgeSecretChanges(new EventBridgeClient(region), {
    busName: config.AUDIT_BUS_NAME,
  }),
  now: () => new Date(),
});
