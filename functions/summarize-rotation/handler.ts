import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './summarize-rotation';

export const handler = createHandler(awsDependencies('summarize-rotation'));
