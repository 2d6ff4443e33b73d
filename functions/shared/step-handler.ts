import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

const MAX_MESSAGE = 300;

/**
 * Keeps a failure small and safe: Step Functions copies a Lambda error's type, message and stack trace into
 * the Catch payload, so the trace is dropped and the message bounded (our messages carry names, never secrets).
 */
const reportErrors = (logger: Logger): MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error;
    if (!(error instanceof Error)) return;
    if (error.message.length > MAX_MESSAGE) error.message = `${error.message.slice(0, MAX_MESSAGE)}…`;
    error.stack = `${error.name}: ${error.message}`;
    logger.error('step failed', { errorName: error.name, errorMessage: error.message });
  },
});

/** A step's Lambda handler: the plain step function, with structured logs and bounded errors. */
export const stepHandler = <I, O>(step: (input: I, context: Context) => Promise<O>, logger: Logger) =>
  middy<I, O, Error, Context>(async (input: I, context: Context) => step(input, context))
    .use(injectLambdaContext(logger))
    .use(reportErrors(logger));
