import { Logger } from '@aws-lambda-powertools/logger';
import { HttpsEnrollmentRegistry } from '../shared/ports/enrollment-registry/https-enrollment-registry';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './load-sync-chunk';

const config = loadConfig('load-sync-chunk', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'load-sync-chunk' }),
  registry: new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL),
});
