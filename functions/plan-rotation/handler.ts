import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeAuditSink } from '../shared/ports/audit-sink/eventbridge-audit-sink';
import { HttpsEnrollmentRegistry } from '../shared/ports/enrollment-registry/https-enrollment-registry';
import { S3RunFiles } from '../shared/ports/run-files/s3-run-files';
import { SecretsManagerSvidStore } from '../shared/ports/svid-store/secrets-manager-svid-store';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './plan-rotation';

const config = loadConfig('plan-rotation', settings);
const region = sdkClientConfig(config.AWS_REGION);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'plan-rotation' }),
  registry: new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL),
  svids: new SecretsManagerSvidStore(new SecretsManagerClient(region), {
    issuerRoleArn: config.ISSUER_ROLE_ARN,
  }),
  audit: new EventBridgeAuditSink(new EventBridgeClient(region), { busName: config.AUDIT_BUS_NAME }),
  runFiles: new S3RunFiles(new S3Client(region), config.RUN_FILES_BUCKET),
});
