import { Logger } from '@aws-lambda-powertools/logger';
import { createHandler } from './summarize-sync';

export const handler = createHandler({ logger: new Logger({ serviceName: 'summarize-sync' }) });
