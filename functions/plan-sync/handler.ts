import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { S3RunFiles } from '../shared/ports/run-files/s3-run-files';
import { HttpsEnrollmentRegistry } from '../shared/ports/enrollment-registry/https-enrollment-registry';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './plan-sync';

const config = loadConfig('plan-sync', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'plan-sync' }),
  registry: new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL),
  runFiles: new S3RunFiles(new S3Client(sdkClientConfig(config.AWS_REGION)), config.RUN_FILES_BUCKET),
});
