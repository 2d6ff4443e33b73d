import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSvidStore } from '../shared/ports/svid-store/secrets-manager-svid-store';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings, SVID_EXPIRY_METRICS } from './watch-svid-expiry';

const { namespace, serviceName } = SVID_EXPIRY_METRICS;
const config = loadConfig(serviceName, settings);

export const handler = createHandler(
  {
    logger: new Logger({ serviceName }),
    svids: new SecretsManagerSvidStore(new SecretsManagerClient(sdkClientConfig(config.AWS_REGION)), {}),
    now: () => new Date(),
  },
  new Metrics({ namespace, serviceName }),
);
