import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './load-chunk';

export const handler = createHandler(awsDependencies('load-chunk'));
