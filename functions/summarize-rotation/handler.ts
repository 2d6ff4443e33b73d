import { Logger } from '@aws-lambda-powertools/logger';
import { createHandler } from './summarize-rotation';

export const handler = createHandler({ logger: new Logger({ serviceName: 'summarize-rotation' }) });
