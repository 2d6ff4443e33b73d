import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './report-outcomes';

export const handler = createHandler(awsDependencies('report-outcomes'));
