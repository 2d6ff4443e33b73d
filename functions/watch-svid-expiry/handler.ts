import { Metrics } from '@aws-lambda-powertools/metrics';
import { awsDependencies } from '../shared/aws/dependencies';
import { createHandler, SVID_EXPIRY_METRICS } from './watch-svid-expiry';

const { namespace, serviceName } = SVID_EXPIRY_METRICS;

export const handler = createHandler(awsDependencies(serviceName), new Metrics({ namespace, serviceName }));
