/**
 * The Distributed Map quotas the local engine enforces, with AWS's published figures:
 * - https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: open Map Runs 1,000 (hard);
 *   parallel Map Run child executions 10,000 (hard).
 * - https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html: MaxConcurrency unset or 0
 *   runs 10,000 child executions at once.
 * - https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html: 10 GB per S3 object read;
 *   an item of up to 8 MB is read (the child input must still fit 256 KiB, after ItemSelector); ReaderConfig
 *   MaxItems up to 100,000,000.
 * - https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html: a batch is at most
 *   256 KiB, which is also the default when only MaxItemsPerBatch is given.
 * A child's input, like every payload, is held to EngineLimits.payloadBytes (256 KiB) by the child itself.
 */
export interface DistributedMapLimits {
  /** Child executions of one Map Run running at once, and the ceiling of MaxConcurrency. AWS: 10,000. */
  childConcurrency: number;
  /** Map Runs open at once in the account. AWS: 1,000. */
  openMapRuns: number;
  /** Bytes of the S3 object an ItemReader reads. AWS: 10 GB. */
  readerObjectBytes: number;
  /** Bytes of one item as read (JSON of the item). AWS: 8 MB. */
  readerItemBytes: number;
  /** Highest ReaderConfig MaxItems. AWS: 100,000,000. */
  readerMaxItems: number;
  /** Highest MaxInputBytesPerBatch, and its default. AWS: 256 KiB. */
  batchBytes: number;
}

export const DISTRIBUTED_MAP_LIMITS: DistributedMapLimits = {
  childConcurrency: 10_000,
  openMapRuns: 1_000,
  readerObjectBytes: 10 * 1024 ** 3,
  readerItemBytes: 8 * 1024 ** 2,
  readerMaxItems: 100_000_000,
  batchBytes: 262_144,
};
