import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './sync-agent';

export const handler = createHandler(awsDependencies('sync-agent'));
