import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './load-sync-chunk';

export const handler = createHandler(awsDependencies('load-sync-chunk'));
