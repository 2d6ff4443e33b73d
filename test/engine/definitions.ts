/** Tiny ASL definitions shared by the engine tests. */

export const FN = 'arn:aws:lambda:us-east-1:000000000000:function:trust-bridge-step';
export const OTHER_FN = 'arn:aws:lambda:us-east-1:000000000000:function:trust-bridge-other';

export const oneTask = (extra: Record<string, unknown> = {}) => ({
  StartAt: 'Do The Step',
  States: { 'Do The Step': { Type: 'Task', Resource: FN, End: true, ...extra } },
});

/** A Map over `$.items` whose iteration is one Task. */
export const mapOfTasks = (map: Record<string, unknown> = {}, task: Record<string, unknown> = {}) => ({
  StartAt: 'For Each Item',
  States: {
    'For Each Item': {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 5,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Handle Item',
        States: { 'Handle Item': { Type: 'Task', Resource: FN, End: true, ...task } },
      },
      End: true,
      ...map,
    },
  },
});

export const items = (count: number) => ({ items: Array.from({ length: count }, (_, i) => ({ i })) });
