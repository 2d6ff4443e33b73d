import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { sdkClientConfig } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { S3RunFiles } from '../shared/ports/run-files/s3-run-files';
import { createHandler, settings } from './summarize-rotation';

const config = loadConfig('summarize-rotation', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'summarize-rotation' }),
  runFiles: new S3RunFiles(new S3Client(sdkClientConfig(config.AWS_REGION)), config.RUN_FILES_BUCKET),
});
