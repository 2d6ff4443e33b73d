import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './summarize-sync';

export const handler = createHandler(awsDependencies('summarize-sync'));
