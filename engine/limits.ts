/** The Step Functions quotas the local engine enforces, so a workflow that fits here fits on AWS. */
export interface EngineLimits {
  /** Bytes (UTF-8 of the JSON) of any state input/output and any task input/result. AWS: 256 KB. */
  payloadBytes: number;
  /** History events of one execution. AWS: 25,000. */
  historyEvents: number;
  /** Concurrent iterations of one inline Map. AWS: 40. */
  mapConcurrency: number;
}

export const AWS_LIMITS: EngineLimits = { payloadBytes: 262_144, historyEvents: 25_000, mapConcurrency: 40 };

/**
 * An error that ends the execution: the engine reads `isRetryable`/`isCatchable`, and AWS lets neither
 * States.ALL nor any other Retry/Catch handle States.DataLimitExceeded or States.Runtime.
 */
export class TerminalExecutionError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(name: 'States.DataLimitExceeded' | 'States.Runtime', message: string) {
    super(message);
    this.name = name;
  }
}

/** Serializes a payload as Step Functions would and fails if it breaks the payload quota. */
export const serializeWithinLimit = (value: unknown, what: string, limits: EngineLimits): string => {
  const json = JSON.stringify(value ?? null);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.payloadBytes) {
    throw new TerminalExecutionError(
      'States.DataLimitExceeded',
      `${what} is ${bytes} bytes, over the payload limit of ${limits.payloadBytes} bytes`,
    );
  }
  return json;
};
