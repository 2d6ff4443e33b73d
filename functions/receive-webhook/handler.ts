import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './receive-webhook';

export const handler = createHandler(awsDependencies('receive-webhook'));
