import { GetObjectCommand } from '@aws-sdk/client-s3';
import { isJsonObject, type Json, type JsonObject } from '../asl';
import { TerminalExecutionError } from '../limits';
import { parseReferencePath, resolveReferencePath } from '../reference-path';
import type { DistributedMapLimits } from './limits';
import type { PayloadTemplates } from './payload-template';
import { describeS3Error, mapRunFailure, type S3Api } from './s3';

const READER_FAILED = 'States.ItemReaderFailed';

export interface ReaderScope {
  s3: S3Api | undefined;
  templates: PayloadTemplates;
  limits: DistributedMapLimits;
  /** The Map's effective input (after InputPath) and the execution's context object. */
  input: Json;
  context: JsonObject;
}

/** A count field given as a value or as a reference path into the Map's input, checked as AWS checks it. */
export const countField = (
  holder: JsonObject,
  field: string,
  scope: Pick<ReaderScope, 'input' | 'context'>,
  range: { min: number; max: number },
): number | undefined => {
  const pathText = holder[`${field}Path`];
  const value =
    typeof pathText === 'string'
      ? resolveReferencePath(parseReferencePath(pathText)!, scope.input, scope.context)
      : holder[field];
  // A path that selects nothing is an error on AWS; a value not given is not.
  if (value === undefined && typeof pathText !== 'string') return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new TerminalExecutionError(
      'States.Runtime',
      `${field}${typeof pathText === 'string' ? `Path (${pathText})` : ''} gave ${JSON.stringify(value ?? null)}; ` +
        `it must be an integer from ${range.min} to ${range.max}`,
    );
  }
  return value;
};

const parseItems = (body: string, inputType: Json | undefined): Json[] => {
  if (inputType === 'JSONL') {
    return body.split('\n').flatMap((line, index) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as Json];
      } catch {
        throw mapRunFailure(READER_FAILED, `Line ${index + 1} of the JSONL object is not JSON`);
      }
    });
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw mapRunFailure(READER_FAILED, `The JSON object could not be parsed: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    // AWS iterates an object's key-value pairs; the adapter does not implement that shape, so it says so.
    throw mapRunFailure(
      READER_FAILED,
      'The JSON object does not hold an array (objects are not iterated locally)',
    );
  }
  return parsed;
};

const checkItemSizes = (items: Json[], limits: DistributedMapLimits) => {
  for (const [index, item] of items.entries()) {
    const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (bytes > limits.readerItemBytes) {
      throw mapRunFailure(
        READER_FAILED,
        `Item ${index} is ${bytes} bytes, over the ${limits.readerItemBytes}-byte item limit`,
      );
    }
  }
};

/** The items an ItemReader (s3:getObject, JSON or JSONL) reads, at most ReaderConfig MaxItems of them. */
export const readItems = async (reader: JsonObject, scope: ReaderScope): Promise<Json[]> => {
  const config = isJsonObject(reader.ReaderConfig) ? reader.ReaderConfig : {};
  const maxItems = countField(config, 'MaxItems', scope, { min: 1, max: scope.limits.readerMaxItems });
  const parameters = await scope.templates.fill(reader.Parameters ?? {}, scope.input, scope.context);
  const { Bucket, Key } = isJsonObject(parameters) ? parameters : {};
  if (typeof Bucket !== 'string' || typeof Key !== 'string') {
    throw mapRunFailure(READER_FAILED, `ItemReader Parameters must give Bucket and Key as strings`);
  }
  let body: string;
  try {
    const object = await scope.s3!.send(new GetObjectCommand({ Bucket, Key }));
    const size = object.ContentLength ?? 0;
    if (size > scope.limits.readerObjectBytes) {
      throw mapRunFailure(
        READER_FAILED,
        `s3://${Bucket}/${Key} is ${size} bytes, over ${scope.limits.readerObjectBytes}`,
      );
    }
    body = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (thrown) {
    if (thrown instanceof Error && thrown.name === READER_FAILED) throw thrown;
    throw mapRunFailure(READER_FAILED, `Reading s3://${Bucket}/${Key} failed: ${describeS3Error(thrown)}`);
  }
  const all = parseItems(body, config.InputType);
  const items = maxItems === undefined ? all : all.slice(0, maxItems);
  checkItemSizes(items, scope.limits);
  return items;
};
