/** Distributed Map definitions shared by the engine's Distributed Map tests. */
import { FN } from './definitions';

export const BUCKET = 'plans';

/** A Distributed Map over the accounts of s3://plans/<key>, each run by one Task; `map` overrides its fields. */
export const fanOut = (map: Record<string, unknown> = {}, processorStates?: Record<string, unknown>) => ({
  StartAt: 'For Each Account',
  States: {
    'For Each Account': {
      Type: 'Map',
      Label: 'Accounts',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: BUCKET, 'Key.$': '$.planKey' },
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: processorStates ? Object.keys(processorStates)[0] : 'Handle Account',
        States: processorStates ?? { 'Handle Account': { Type: 'Task', Resource: FN, End: true } },
      },
      End: true,
      ...map,
    },
  },
});

export const accounts = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ accountId: String(100000000000 + i) }));
