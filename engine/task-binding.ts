import { randomUUID } from 'node:crypto';

/** What a Lambda handler (a Middy-wrapped one included) reads from its context, as the Lambda runtime gives it. */
export interface LambdaLikeContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis: () => number;
  // Legacy callback-style completion: part of Lambda's Context type, not supported by async handlers here.
  done: (error?: Error, result?: unknown) => void;
  fail: (error: Error | string) => void;
  succeed: (result: unknown) => void;
}

// A binding accepts handlers typed for any event shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskHandler<TInput = any> = (input: TInput, context: LambdaLikeContext) => Promise<unknown>;

/** Lambda's longest timeout: what a handler sees as remaining time when the Task sets no TimeoutSeconds. */
export const LAMBDA_MAX_TIMEOUT_MS = 900_000;

const functionNameOf = (resourceArn: string): string => {
  const parts = resourceArn.split(':');
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  if (parts[2] === 'lambda' && parts[5] === 'function' && parts[6]) return parts[6];
  return parts.at(-1) || resourceArn;
};

const callbacksUnsupported = () => {
  throw new Error('callback-style completion is not supported: return a promise from the handler');
};

export const lambdaContext = (resourceArn: string, timeoutMs: number): LambdaLikeContext => {
  const deadline = Date.now() + timeoutMs;
  const functionName = functionNameOf(resourceArn);
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: resourceArn,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: callbacksUnsupported,
    fail: callbacksUnsupported,
    succeed: callbacksUnsupported,
  };
};

/**
 * A failed Task as the engine hands it to Retry/Catch: the engine matches ErrorEquals on `name` and uses
 * `message` as the Cause, so `message` holds the Cause text exactly as AWS would report it.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** Lambda reports a thrown error as errorType = its name and Cause = {"errorType","errorMessage"} JSON. */
export const lambdaFailureOf = (thrown: unknown): TaskFailure => {
  const errorType = thrown instanceof Error ? thrown.name : 'Error';
  const errorMessage = thrown instanceof Error ? thrown.message : String(thrown);
  return new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage }));
};
