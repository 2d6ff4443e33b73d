import type { Json, JsonObject } from '../asl';
import type { ExecutionRecord } from '../execution-record';

/** A child execution as the Map Run reports it: its record, or only its input when it never started. */
export type ChildOutcome = { record: ExecutionRecord } | { pending: Json };

/**
 * A child execution in the shape AWS writes to SUCCEEDED_n.json / FAILED_n.json (Transformation NONE), as shown in
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html: Input and Output as JSON text,
 * dates in ISO-8601. A child that never started (PENDING) has only its input.
 */
export const describeChild = (outcome: ChildOutcome): JsonObject => {
  if ('pending' in outcome) {
    return { Input: JSON.stringify(outcome.pending), InputDetails: { Included: true }, Status: 'PENDING' };
  }
  const { record } = outcome;
  const result: JsonObject =
    record.status === 'SUCCEEDED'
      ? {
          Output: JSON.stringify(record.output ?? null),
          OutputDetails: { Included: true },
          RedriveCount: 0,
          RedriveStatus: 'NOT_REDRIVABLE',
          RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
        }
      : { Error: record.error ?? null, Cause: record.cause ?? null, RedriveCount: 0 };
  return {
    ExecutionArn: record.executionArn,
    Input: JSON.stringify(record.input),
    InputDetails: { Included: true },
    Name: record.name,
    ...result,
    StartDate: record.startDate,
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    StopDate: record.stopDate,
  };
};

export type Transformation = 'NONE' | 'COMPACT' | 'FLATTEN';

/**
 * The results under WriterConfig's Transformation: NONE describes every child; COMPACT gives each succeeded
 * child's output; FLATTEN also spreads outputs that are arrays. A failed child is described whatever the
 * transformation, as AWS does.
 */
export const transformResults = (records: ExecutionRecord[], transformation: Transformation): Json[] =>
  records.flatMap((record): Json[] => {
    if (transformation === 'NONE' || record.status !== 'SUCCEEDED') return [describeChild({ record })];
    const output = (record.output ?? null) as Json;
    return transformation === 'FLATTEN' && Array.isArray(output) ? output : [output];
  });
