import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './plan-sync';

export const handler = createHandler(awsDependencies('plan-sync'));
