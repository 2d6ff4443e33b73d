import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeAuditSink } from '../shared/ports/audit-sink/eventbridge-audit-sink';
import { SecretsManagerSecretStore } from '../shared/ports/secret-store/secrets-manager-secret-store';
import { SecretsManagerSvidStore } from '../shared/ports/svid-store/secrets-manager-svid-store';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { keywhizSecretSource } from '../shared/ports/secret-source/keywhiz-client';
import { SecretsManagerKeywhizServerCa } from '../shared/ports/secret-source/keywhiz-server-ca';
import { createHandler, settings } from './sync-agent';

const config = loadConfig('sync-agent', settings);
const region = sdkClientConfig(config.AWS_REGION);
// One client: the agent reads its SVID in the central account by ARN, and Keywhiz's CA and writes in its own account.
const secretsManager = new SecretsManagerClient(region);
const store = new SecretsManagerSecretStore(secretsManager, { kmsKeyId: config.SYNC_KMS_KEY_ID });
// Read at the first sync and kept for the container's life.
const keywhizServerCa = new SecretsManagerKeywhizServerCa(secretsManager, config.KEYWHIZ_SERVER_CA_SECRET);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'sync-agent' }),
  svids: new SecretsManagerSvidStore(secretsManager, {}),
  secretSource: keywhizSecretSource(config, () => keywhizServerCa),
  secretStore: () => store,
  audit: new EventBridgeAuditSink(new EventBridgeClient(region), { busName: config.AUDIT_BUS_NAME }),
});
