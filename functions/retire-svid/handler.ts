import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler } from './retire-svid';

export const handler = createHandler(awsDependencies('retire-svid'));
