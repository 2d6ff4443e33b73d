import { isJsonObject, type Json, type JsonObject, ownStrings } from '../asl';
import { parseReferencePath } from '../reference-path';
import type { DistributedMapLimits } from './limits';

/**
 * What a Distributed Map may declare to run locally as on AWS. Anything else is refused at registration, with
 * the field named, rather than run differently: what the adapter does not implement (EXPRESS children, CSV,
 * Parquet and manifest readers, s3:listObjectsV2, JSONL result files) is said so.
 */

export const GET_OBJECT = 'arn:aws:states:::s3:getObject';
export const PUT_OBJECT = 'arn:aws:states:::s3:putObject';

export interface DistributedMapRuleOptions {
  hasS3: boolean;
  limits: DistributedMapLimits;
}

/** Label rules: at most 40 characters, none of the characters AWS reserves (state-map-distributed.html). */
const LABEL = /^[^\s?*<>{}[\]:;,\\|^~$#%&`"\p{Cc}]{1,40}$/u;

const READER_CONFIG_FIELDS = ['InputType', 'MaxItems', 'MaxItemsPath'];
const BATCHER_FIELDS = [
  'MaxItemsPerBatch',
  'MaxItemsPerBatchPath',
  'MaxInputBytesPerBatch',
  'MaxInputBytesPerBatchPath',
  'BatchInput',
];
const TRANSFORMATIONS = ['NONE', 'COMPACT', 'FLATTEN'];

const isInteger = (value: Json | undefined, min: number, max = Number.MAX_SAFE_INTEGER) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** A field given both as a value and as a path, or a path that is not a plain reference path. */
const valueOrPathProblems = (holder: JsonObject, field: string, where: string): string[] => {
  const path = holder[`${field}Path`];
  if (path === undefined) return [];
  if (field in holder) return [`${where}: give "${field}" or "${field}Path", not both`];
  if (typeof path !== 'string' || !parseReferencePath(path)) {
    return [`${where}: field "${field}Path" must be a plain reference path (such as $.limits.${field})`];
  }
  return [];
};

const unknownFields = (holder: JsonObject, known: string[], where: string, why: string) =>
  Object.keys(holder)
    .filter((key) => !known.includes(key) && !known.includes(key.replace(/\.\$$/, '')))
    .map((key) => `${where}: field "${key}" ${why}`);

/** Templates the adapter evaluates outside the engine's run: the engine would give its own $$.Execution.StartTime. */
const startTimeProblems = (templates: Record<string, Json | undefined>): string[] =>
  Object.entries(templates)
    .filter(([, template]) =>
      ownStrings({ template: template ?? null }).some((s) => s.includes('$$.Execution.StartTime')),
    )
    .map(([field]) => `field "${field}" references $$.Execution.StartTime, which is not given locally there`);

const readerProblems = (reader: Json, options: DistributedMapRuleOptions): string[] => {
  if (!isJsonObject(reader)) return ['field "ItemReader" must be an object'];
  const problems = unknownFields(
    reader,
    ['Resource', 'ReaderConfig', 'Parameters'],
    'ItemReader',
    'is not supported locally',
  );
  if (reader.Resource !== GET_OBJECT) {
    problems.push(
      `field "ItemReader.Resource" is ${JSON.stringify(reader.Resource)}; only ${GET_OBJECT} runs locally`,
    );
  }
  if (!options.hasS3) {
    problems.push('field "ItemReader" reads from S3, and the engine has no S3 client (option "s3")');
  }
  const parameters = isJsonObject(reader.Parameters) ? reader.Parameters : {};
  problems.push(
    ...unknownFields(parameters, ['Bucket', 'Key'], 'ItemReader.Parameters', 'is not supported locally'),
  );
  for (const field of ['Bucket', 'Key']) {
    if (!(field in parameters) && !(`${field}.$` in parameters)) {
      problems.push(`field "ItemReader.Parameters.${field}" is missing`);
    }
  }
  const config = isJsonObject(reader.ReaderConfig) ? reader.ReaderConfig : {};
  problems.push(
    ...unknownFields(config, READER_CONFIG_FIELDS, 'ItemReader.ReaderConfig', 'is not supported locally'),
  );
  if (config.InputType !== 'JSON' && config.InputType !== 'JSONL') {
    problems.push(
      `field "ItemReader.ReaderConfig.InputType" is ${JSON.stringify(config.InputType ?? 'missing')}; ` +
        'JSON and JSONL run locally',
    );
  }
  if ('MaxItems' in config && !isInteger(config.MaxItems, 1, options.limits.readerMaxItems)) {
    problems.push(
      `field "ItemReader.ReaderConfig.MaxItems" must be an integer from 1 to ${options.limits.readerMaxItems}`,
    );
  }
  problems.push(...valueOrPathProblems(config, 'MaxItems', 'ItemReader.ReaderConfig'));
  return problems;
};

const batcherProblems = (batcher: Json, options: DistributedMapRuleOptions): string[] => {
  if (!isJsonObject(batcher)) return ['field "ItemBatcher" must be an object'];
  const problems = unknownFields(batcher, BATCHER_FIELDS, 'ItemBatcher', 'is not an ItemBatcher field');
  const bounded = [
    'MaxItemsPerBatch',
    'MaxItemsPerBatchPath',
    'MaxInputBytesPerBatch',
    'MaxInputBytesPerBatchPath',
  ];
  if (!bounded.some((field) => field in batcher)) {
    problems.push('field "ItemBatcher" needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path)');
  }
  if ('MaxItemsPerBatch' in batcher && !isInteger(batcher.MaxItemsPerBatch, 1)) {
    problems.push('field "ItemBatcher.MaxItemsPerBatch" must be a positive integer');
  }
  if (
    'MaxInputBytesPerBatch' in batcher &&
    !isInteger(batcher.MaxInputBytesPerBatch, 1, options.limits.batchBytes)
  ) {
    problems.push(
      `field "ItemBatcher.MaxInputBytesPerBatch" must be an integer from 1 to ${options.limits.batchBytes}`,
    );
  }
  for (const field of ['MaxItemsPerBatch', 'MaxInputBytesPerBatch']) {
    problems.push(...valueOrPathProblems(batcher, field, 'ItemBatcher'));
  }
  return problems;
};

const writerProblems = (writer: Json, options: DistributedMapRuleOptions): string[] => {
  if (!isJsonObject(writer)) return ['field "ResultWriter" must be an object'];
  const problems = unknownFields(
    writer,
    ['Resource', 'Parameters', 'WriterConfig'],
    'ResultWriter',
    'is not a ResultWriter field',
  );
  if (writer.Resource === undefined && writer.WriterConfig === undefined) {
    problems.push('field "ResultWriter" needs Resource and Parameters, or WriterConfig');
  }
  if (writer.Resource !== undefined) {
    if (writer.Resource !== PUT_OBJECT) {
      problems.push(
        `field "ResultWriter.Resource" is ${JSON.stringify(writer.Resource)}; only ${PUT_OBJECT}`,
      );
    }
    if (!options.hasS3) {
      problems.push('field "ResultWriter" writes to S3, and the engine has no S3 client (option "s3")');
    }
    const parameters = isJsonObject(writer.Parameters) ? writer.Parameters : {};
    if (!('Bucket' in parameters) && !('Bucket.$' in parameters)) {
      problems.push('field "ResultWriter.Parameters.Bucket" is missing');
    }
    problems.push(
      ...unknownFields(
        parameters,
        ['Bucket', 'Prefix'],
        'ResultWriter.Parameters',
        'is not supported locally',
      ),
    );
  }
  if (writer.WriterConfig !== undefined) {
    const config = isJsonObject(writer.WriterConfig) ? writer.WriterConfig : {};
    if (config.Transformation !== undefined && !TRANSFORMATIONS.includes(String(config.Transformation))) {
      problems.push(
        `field "ResultWriter.WriterConfig.Transformation" must be one of ${TRANSFORMATIONS.join(', ')}`,
      );
    }
    if (config.OutputType !== undefined && config.OutputType !== 'JSON') {
      problems.push(
        'field "ResultWriter.WriterConfig.OutputType": only JSON runs locally (JSONL is not implemented)',
      );
    }
  }
  return problems;
};

const toleranceProblems = (state: JsonObject): string[] => {
  const problems = [
    ...valueOrPathProblems(state, 'ToleratedFailurePercentage', 'Map'),
    ...valueOrPathProblems(state, 'ToleratedFailureCount', 'Map'),
    ...valueOrPathProblems(state, 'MaxConcurrency', 'Map'),
  ];
  const percentage = state.ToleratedFailurePercentage;
  if (percentage !== undefined && !(typeof percentage === 'number' && percentage >= 0 && percentage <= 100)) {
    problems.push('field "ToleratedFailurePercentage" must be a number from 0 to 100');
  }
  if (state.ToleratedFailureCount !== undefined && !isInteger(state.ToleratedFailureCount, 0)) {
    problems.push('field "ToleratedFailureCount" must be a non-negative integer');
  }
  if (state.MaxConcurrency !== undefined && !isInteger(state.MaxConcurrency, 0)) {
    problems.push('field "MaxConcurrency" must be a non-negative integer (0: as many as AWS allows)');
  }
  return problems;
};

/** Every reason this Distributed Map cannot run locally as it would on AWS (its own fields, not its children's). */
export const distributedMapProblems = (
  state: JsonObject,
  enclosingMap: string | undefined,
  options: DistributedMapRuleOptions,
): string[] => {
  const processor = isJsonObject(state.ItemProcessor) ? state.ItemProcessor : {};
  const config = isJsonObject(processor.ProcessorConfig) ? processor.ProcessorConfig : {};
  const problems: string[] = [];
  if (config.ExecutionType !== 'STANDARD') {
    problems.push(
      `field "ItemProcessor.ProcessorConfig.ExecutionType" is ${JSON.stringify(config.ExecutionType ?? 'missing')}; ` +
        'only STANDARD child executions run locally (EXPRESS is not implemented)',
    );
  }
  if (enclosingMap !== undefined) {
    problems.push(`is a Distributed Map inside the inline Map "${enclosingMap}", which does not run locally`);
  }
  if ('Parameters' in state) problems.push('field "Parameters": a Distributed Map takes ItemSelector');
  if ('ItemReader' in state) {
    problems.push(...readerProblems(state.ItemReader ?? null, options));
    if ('ItemsPath' in state) problems.push('fields "ItemsPath" and "ItemReader" exclude each other');
  }
  if (typeof state.ItemsPath === 'string' && !parseReferencePath(state.ItemsPath)) {
    problems.push('field "ItemsPath" must be a plain reference path (such as $.accounts)');
  }
  if ('ItemBatcher' in state) problems.push(...batcherProblems(state.ItemBatcher ?? null, options));
  if ('ResultWriter' in state) problems.push(...writerProblems(state.ResultWriter ?? null, options));
  if ('Label' in state && (typeof state.Label !== 'string' || !LABEL.test(state.Label))) {
    problems.push(
      'field "Label" must be 1 to 40 characters, without whitespace, brackets or reserved punctuation',
    );
  }
  const reader = isJsonObject(state.ItemReader) ? state.ItemReader : {};
  const batcher = isJsonObject(state.ItemBatcher) ? state.ItemBatcher : {};
  const writer = isJsonObject(state.ResultWriter) ? state.ResultWriter : {};
  problems.push(
    ...toleranceProblems(state),
    ...startTimeProblems({
      ItemSelector: state.ItemSelector,
      'ItemReader.Parameters': reader.Parameters,
      'ItemBatcher.BatchInput': batcher.BatchInput,
      'ResultWriter.Parameters': writer.Parameters,
    }),
  );
  return problems;
};
