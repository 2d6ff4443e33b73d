export type {
  ExecutionRecord,
  ExecutionStatus,
  RunningExecution,
  StepFunctionsApiErrorName,
} from './execution-record';
export { StepFunctionsApiError } from './execution-record';
export type { StatePayloadObserver } from './execution-watch';
export type { DistributedMapLimits } from './distributed-map/limits';
export { DISTRIBUTED_MAP_LIMITS } from './distributed-map/limits';
export type { S3Api } from './distributed-map/s3';
export type { EngineLimits } from './limits';
export { AWS_LIMITS } from './limits';
export type { ExecutionFilter, LocalStepFunctionsOptions, RegisterOptions } from './local-step-functions';
export { LocalStepFunctions } from './local-step-functions';
export type { LambdaLikeContext, TaskHandler } from './task-binding';
