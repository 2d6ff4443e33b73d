import { Logger } from '@aws-lambda-powertools/logger';
import { HttpsEnrollmentRegistry } from '../shared/ports/enrollment-registry/https-enrollment-registry';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './load-chunk';

const config = loadConfig('load-chunk', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'load-chunk' }),
  registry: new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL),
  now: () => new Date(),
});
