import { describe, expect, it } from '@jest/globals';
import { LocalStepFunctions } from '../../engine';
import { FN, mapOfTasks, oneTask } from './definitions';

const engine = () => {
  const sfn = new LocalStepFunctions({ zeroDelays: true });
  sfn.bindResource(FN, async () => ({}));
  return sfn;
};

const rejection = (definition: object) => {
  try {
    engine().registerStateMachine('tiny', definition);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the definition was accepted');
};

describe('registerStateMachine', () => {
  it('accepts a definition whose Tasks are all bound and returns its ARN', () => {
    expect(engine().registerStateMachine('tiny', oneTask())).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:tiny',
    );
  });

  it('rejects a Task whose Resource has no binding, naming the state and the resource', () => {
    const error = rejection(oneTask({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:nobody' }));
    expect(error.name).toBe('InvalidDefinition');
    expect(error.message).toContain('State "Do The Step": field "Resource"');
    expect(error.message).toContain('function:nobody has no local binding');
  });

  it('substitutes placeholders in resources before checking bindings', () => {
    const sfn = engine();
    // An ASL placeholder, not a template literal.
    const definition = oneTask({ Resource: '${StepFunctionArn}' });
    expect(() =>
      sfn.registerStateMachine('a', definition, { substitutions: { StepFunctionArn: FN } }),
    ).not.toThrow();
    expect(() => sfn.registerStateMachine('b', definition)).toThrow(
      /\$\{StepFunctionArn\} was not substituted/,
    );
  });

  it('reads a definition given as JSON text', () => {
    expect(() => engine().registerStateMachine('tiny', JSON.stringify(oneTask()))).not.toThrow();
  });

  it('refuses to register the same name twice', () => {
    const sfn = engine();
    sfn.registerStateMachine('tiny', oneTask());
    expect(() => sfn.registerStateMachine('tiny', oneTask())).toThrow(
      expect.objectContaining({ name: 'StateMachineAlreadyExists' }),
    );
  });

  it('rejects state names repeated across Map nesting, since bindings are keyed by state name', () => {
    const definition = mapOfTasks();
    definition.States['For Each Item'].ItemProcessor.States = {
      'For Each Item': { Type: 'Task', Resource: FN, End: true },
    } as never;
    expect(rejection(definition).message).toContain('State "For Each Item": the name is used more than once');
  });

  it('passes asl-validator errors on', () => {
    expect(rejection({ StartAt: 'Missing', States: { Here: { Type: 'Pass', End: true } } }).message).toMatch(
      /MISSING_TRANSITION_TARGET/,
    );
  });

  const rejected: [string, object, RegExp][] = [
    [
      'JSONata at the top level',
      { QueryLanguage: 'JSONata', ...oneTask() },
      /top level: field "QueryLanguage"/,
    ],
    ['JSONata in a state', oneTask({ QueryLanguage: 'JSONata' }), /"Do The Step": field "QueryLanguage"/],
    ['Assign', oneTask({ Assign: { x: 1 } }), /"Do The Step": field "Assign"/],
    ['Arguments', oneTask({ Arguments: { x: 1 } }), /"Do The Step": field "Arguments"/],
    ['Output', oneTask({ Output: { x: 1 } }), /"Do The Step": field "Output"/],
    [
      'ItemReader',
      mapOfTasks({
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: 'b', Key: 'k' } },
      }),
      /"For Each Item": field "ItemReader"/,
    ],
    [
      'ItemBatcher',
      mapOfTasks({ ItemBatcher: { MaxItemsPerBatch: 5 } }),
      /"For Each Item": field "ItemBatcher"/,
    ],
    [
      'ResultWriter',
      mapOfTasks({
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'b' } },
      }),
      /"For Each Item": field "ResultWriter"/,
    ],
    [
      'a Distributed Map of EXPRESS child executions',
      (() => {
        const definition = mapOfTasks();
        definition.States['For Each Item'].ItemProcessor.ProcessorConfig = {
          Mode: 'DISTRIBUTED',
          ExecutionType: 'EXPRESS',
        } as never;
        return definition;
      })(),
      /"For Each Item": field "ItemProcessor.ProcessorConfig.ExecutionType" is "EXPRESS"; only STANDARD/,
    ],
    ['Label on an inline Map', mapOfTasks({ Label: 'Accounts' }), /"For Each Item": field "Label"/],
    [
      'ToleratedFailurePercentage',
      mapOfTasks({ ToleratedFailurePercentage: 10 }),
      /field "ToleratedFailurePercentage"/,
    ],
    ['ToleratedFailureCount', mapOfTasks({ ToleratedFailureCount: 1 }), /field "ToleratedFailureCount"/],
    [
      'ToleratedFailureCountPath',
      mapOfTasks({ ToleratedFailureCountPath: '$.n' }),
      /"ToleratedFailureCountPath"/,
    ],
    ['HeartbeatSeconds', oneTask({ HeartbeatSeconds: 10, TimeoutSeconds: 60 }), /field "HeartbeatSeconds"/],
    ['HeartbeatSecondsPath', oneTask({ HeartbeatSecondsPath: '$.hb' }), /field "HeartbeatSecondsPath"/],
    ['ResultPath "$"', oneTask({ ResultPath: '$' }), /"Do The Step": field "ResultPath" is "\$"/],
    [
      'Catch ResultPath "$"',
      {
        StartAt: 'Do The Step',
        States: {
          'Do The Step': {
            Type: 'Task',
            Resource: FN,
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Done' }],
            Next: 'Done',
          },
          Done: { Type: 'Succeed' },
        },
      },
      /field "Catch\[\]\.ResultPath" is "\$"/,
    ],
    [
      'a falsy Pass Result',
      { StartAt: 'Zero', States: { Zero: { Type: 'Pass', Result: 0, End: true } } },
      /"Zero": field "Result" is 0/,
    ],
    [
      '$$.Execution.Input inside a Map',
      mapOfTasks({}, { Parameters: { 'run.$': '$$.Execution.Input.runId' } }),
      /"Handle Item": references \$\$\.Execution\.Input inside Map "For Each Item"/,
    ],
    [
      'a Map without MaxConcurrency',
      mapOfTasks({ MaxConcurrency: undefined }),
      /field "MaxConcurrency" is "missing"/,
    ],
    ['a Map with MaxConcurrency 0', mapOfTasks({ MaxConcurrency: 0 }), /field "MaxConcurrency" is 0/],
    ['a Map with MaxConcurrency 41', mapOfTasks({ MaxConcurrency: 41 }), /field "MaxConcurrency" is 41/],
    [
      'a MaxConcurrencyPath that is not a reference path',
      mapOfTasks({ MaxConcurrency: undefined, MaxConcurrencyPath: '$.limits[?(@.x)]' }),
      /field "MaxConcurrencyPath" must be a plain reference path/,
    ],
  ];

  it.each(rejected)('rejects %s', (_, definition, message) => {
    const error = rejection(JSON.parse(JSON.stringify(definition)));
    expect(error.name).toBe('InvalidDefinition');
    expect(error.message).toMatch(message);
  });

  it('accepts $$.Execution.Input outside a Map and a Map bounded by MaxConcurrencyPath', () => {
    const sfn = engine();
    expect(() =>
      sfn.registerStateMachine('a', oneTask({ Parameters: { 'runId.$': '$$.Execution.Input.runId' } })),
    ).not.toThrow();
    expect(() =>
      sfn.registerStateMachine('b', mapOfTasks({ MaxConcurrency: undefined, MaxConcurrencyPath: '$.limit' })),
    ).not.toThrow();
  });
});
