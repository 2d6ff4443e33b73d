import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './report-sync-outcomes';

export const handler = createHandler(awsDependencies('report-sync-outcomes'));
