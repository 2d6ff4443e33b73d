import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './issue-svid';

export const handler = createHandler(awsDependencies('issue-svid'));
