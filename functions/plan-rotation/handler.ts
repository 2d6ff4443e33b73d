import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './plan-rotation';

export const handler = createHandler(awsDependencies('plan-rotation'));
