import { Logger } from '@aws-lambda-powertools/logger';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AcmPcaAuthority } from '../shared/ports/certificate-authority/acm-pca-authority';
import { SecretsManagerSvidStore } from '../shared/ports/svid-store/secrets-manager-svid-store';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './issue-svid';

const config = loadConfig('issue-svid', settings);
const region = sdkClientConfig(config.AWS_REGION);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'issue-svid' }),
  authority: new AcmPcaAuthority(new ACMPCAClient(region), {
    caArn: config.CA_ARN,
    signingAlgorithm: config.CA_SIGNING_ALGORITHM,
  }),
  svids: new SecretsManagerSvidStore(new SecretsManagerClient(region), {
    kmsKeyId: config.SVID_KMS_KEY_ID,
    issuerRoleArn: config.ISSUER_ROLE_ARN,
    centralAccountId: config.CENTRAL_ACCOUNT_ID,
  }),
  now: () => new Date(),
});
