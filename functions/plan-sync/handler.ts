import { Logger } from '@aws-lambda-powertools/logger';
import { HttpsEnrollmentRegistry } from '../shared/ports/enrollment-registry/https-enrollment-registry';
import { loadConfig } from '../shared/config';
import { createHandler, settings } from './plan-sync';

const config = loadConfig('plan-sync', settings);

export const handler = createHandler({
  config,
  logger: new Logger({ serviceName: 'plan-sync' }),
  registry: new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL),
});
