import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSvidStore } from '../shared/ports/svid-store/secrets-manager-svid-store';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './retire-svid';

const config = loadConfig('retire-svid', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'retire-svid' }),
  svids: new SecretsManagerSvidStore(new SecretsManagerClient(sdkClientConfig(config.AWS_REGION)), {}),
  now: () => new Date(),
});
