import { PutObjectCommand } from '@aws-sdk/client-s3';
import { isJsonObject, type Json, type JsonObject } from '../asl';
import type { ExecutionRecord } from '../execution-record';
import { type ChildOutcome, describeChild, type Transformation, transformResults } from './child-results';
import type { PayloadTemplates } from './payload-template';
import { describeS3Error, mapRunFailure, type S3Api } from './s3';

export interface MapRunResults {
  mapRunArn: string;
  /** Every child, in item order: finished ones with their record, the ones never started with their input. */
  outcomes: ChildOutcome[];
}

export interface WriterScope {
  s3: S3Api | undefined;
  templates: PayloadTemplates;
  input: Json;
  context: JsonObject;
}

const transformationOf = (writer: JsonObject | undefined, exported: boolean): Transformation => {
  const config = writer && isJsonObject(writer.WriterConfig) ? writer.WriterConfig : {};
  const given = config.Transformation;
  if (given === 'NONE' || given === 'COMPACT' || given === 'FLATTEN') return given;
  // AWS's defaults: the full description when exporting to S3, the outputs otherwise.
  return exported ? 'NONE' : 'COMPACT';
};

/** The Map's result without an S3 export: the children's results in item order, under WriterConfig if any. */
export const resultsInline = (writer: JsonObject | undefined, results: MapRunResults): Json =>
  transformResults(finished(results), transformationOf(writer, false));

const finished = (results: MapRunResults): ExecutionRecord[] =>
  results.outcomes.flatMap((outcome) => ('record' in outcome ? [outcome.record] : []));

/**
 * Exports the Map Run as AWS does (input-output-resultwriter.html): `<Prefix>/<map run id>/` gets SUCCEEDED_0.json,
 * FAILED_0.json (failed, timed out, aborted) and PENDING_0.json (never started), each written only when it has
 * entries, then manifest.json naming them with their sizes. Returns the Map's result: the Map Run ARN and where
 * the manifest is. AWS starts a new file past 5 GB; a local run never gets near that.
 */
export const exportResults = async (
  writer: JsonObject,
  results: MapRunResults,
  scope: WriterScope,
): Promise<Json> => {
  const parameters = await scope.templates.fill(writer.Parameters ?? {}, scope.input, scope.context);
  const { Bucket, Prefix } = isJsonObject(parameters) ? parameters : {};
  if (typeof Bucket !== 'string' || (Prefix !== undefined && typeof Prefix !== 'string')) {
    throw mapRunFailure(
      'States.ResultWriterFailed',
      'ResultWriter Parameters must give Bucket (and Prefix) as strings',
    );
  }
  const mapRunId = results.mapRunArn.split(':').at(-1);
  const folder = `${Prefix && !Prefix.endsWith('/') ? `${Prefix}/` : (Prefix ?? '')}${mapRunId}/`;
  const transformation = transformationOf(writer, true);
  const records = finished(results);
  const groups: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', Json[]> = {
    FAILED: records.filter((r) => r.status !== 'SUCCEEDED').map((record) => describeChild({ record })),
    PENDING: results.outcomes.filter((o) => 'pending' in o).map(describeChild),
    SUCCEEDED: transformResults(
      records.filter((r) => r.status === 'SUCCEEDED'),
      transformation,
    ),
  };
  const put = async (Key: string, body: string) => {
    try {
      await scope.s3!.send(
        new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/json' }),
      );
    } catch (thrown) {
      throw mapRunFailure(
        'States.ResultWriterFailed',
        `Writing s3://${Bucket}/${Key} failed: ${describeS3Error(thrown)}`,
      );
    }
    return { Key, Size: Buffer.byteLength(body, 'utf8') };
  };
  const files: Record<string, Json[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const [status, entries] of Object.entries(groups)) {
    if (entries.length > 0) files[status] = [await put(`${folder}${status}_0.json`, JSON.stringify(entries))];
  }
  const manifest = { DestinationBucket: Bucket, MapRunArn: results.mapRunArn, ResultFiles: files };
  const { Key } = await put(`${folder}manifest.json`, JSON.stringify(manifest));
  return { MapRunArn: results.mapRunArn, ResultWriterDetails: { Bucket, Key } };
};
