import { isJsonObject, type Json, type JsonObject } from '../asl';
import type { ExecutionRecord } from '../execution-record';
import { TerminalExecutionError } from '../limits';
import { parseReferencePath, resolveReferencePath } from '../reference-path';
import { childWork } from './batches';
import type { ChildOutcome } from './child-results';
import { countField, readItems, type ReaderScope } from './item-reader';
import type { DistributedMapLimits } from './limits';
import type { PayloadTemplates } from './payload-template';
import { exportResults, resultsInline } from './result-writer';
import { mapRunFailure, type S3Api } from './s3';

/** What a Map Run needs of the engine that runs it. */
export interface MapRunEngine {
  s3: S3Api | undefined;
  limits: DistributedMapLimits;
  /** How many child executions run at once in this process, whatever the Map allows: bounds memory. */
  childExecutionsAtOnce: number;
  templates: PayloadTemplates;
  /** Map Runs open now, across every execution of the engine (AWS's open Map Runs quota). */
  openMapRuns: { count: number };
  /** Runs one child execution of the ItemProcessor to its end. */
  startChild: (input: Json, mapRunArn: string) => Promise<ExecutionRecord>;
  /** Whether the parent execution is over (failed on a quota): no child starts after that. */
  parentIsOver: () => boolean;
}

export interface MapRunRequest {
  /** The Distributed Map state as defined. */
  state: JsonObject;
  /** The Map's effective input (after InputPath) and the parent's context object. */
  input: Json;
  context: JsonObject;
  mapRunArn: string;
}

interface Tolerance {
  count?: number;
  percentage?: number;
}

const toleranceOf = (state: JsonObject, scope: Pick<ReaderScope, 'input' | 'context'>): Tolerance => {
  const count = countField(state, 'ToleratedFailureCount', scope, { min: 0, max: Number.MAX_SAFE_INTEGER });
  const path = state.ToleratedFailurePercentagePath;
  const percentage =
    typeof path === 'string'
      ? resolveReferencePath(parseReferencePath(path)!, scope.input, scope.context)
      : state.ToleratedFailurePercentage;
  if (percentage !== undefined && !(typeof percentage === 'number' && percentage >= 0 && percentage <= 100)) {
    throw new TerminalExecutionError(
      'States.Runtime',
      `ToleratedFailurePercentagePath (${path}) gave ${JSON.stringify(percentage ?? null)}; it must be from 0 to 100`,
    );
  }
  // Neither given: AWS tolerates no failure. One given: only that one bounds the run.
  if (count === undefined && percentage === undefined) return { count: 0 };
  return { count, percentage: percentage as number | undefined };
};

const exceeds = (tolerance: Tolerance, failed: number, total: number) =>
  (tolerance.count !== undefined && failed > tolerance.count) ||
  (tolerance.percentage !== undefined && total > 0 && (failed * 100) / total > tolerance.percentage);

const itemsOf = async (request: MapRunRequest, scope: ReaderScope): Promise<Json[]> => {
  if (isJsonObject(request.state.ItemReader)) return readItems(request.state.ItemReader, scope);
  const path = typeof request.state.ItemsPath === 'string' ? request.state.ItemsPath : '$';
  const items = resolveReferencePath(parseReferencePath(path)!, request.input, request.context);
  if (!Array.isArray(items)) {
    throw new TerminalExecutionError(
      'States.Runtime',
      `ItemsPath ${path} selected ${items === undefined ? 'nothing' : 'no array'}; a Map iterates an array`,
    );
  }
  return items as Json[];
};

/**
 * One Map Run of a Distributed Map, as AWS runs it (state-map-distributed.html): read the items (ItemReader or
 * ItemsPath), apply ItemSelector, batch, run each item or batch as a child execution with at most MaxConcurrency
 * at once (0 or unset: 10,000), stop starting children once failed items exceed the tolerated count or
 * percentage, export the results when a ResultWriter says so, and fail with
 * States.ExceedToleratedFailureThreshold when the threshold was exceeded.
 */
export const runMapRun = async (engine: MapRunEngine, request: MapRunRequest): Promise<Json> => {
  if (engine.openMapRuns.count >= engine.limits.openMapRuns) {
    throw new TerminalExecutionError(
      'States.Runtime',
      `The account already has ${engine.limits.openMapRuns} open Map Runs, AWS's quota`,
    );
  }
  engine.openMapRuns.count += 1;
  try {
    return await run(engine, request);
  } finally {
    engine.openMapRuns.count -= 1;
  }
};

const run = async (engine: MapRunEngine, request: MapRunRequest): Promise<Json> => {
  const { state, mapRunArn } = request;
  const scope: ReaderScope = { ...engine, input: request.input, context: request.context };
  const tolerance = toleranceOf(state, scope);
  const maxConcurrency =
    countField(state, 'MaxConcurrency', scope, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
  const items = await itemsOf(request, scope);
  const work = await childWork(state, items, scope);
  const allowed =
    maxConcurrency === 0
      ? engine.limits.childConcurrency
      : Math.min(maxConcurrency, engine.limits.childConcurrency);
  const outcomes: ChildOutcome[] = work.map(({ input }) => ({ pending: input }));
  let next = 0;
  let failedItems = 0;
  let exceeded = false;
  const worker = async () => {
    while (!exceeded && !engine.parentIsOver() && next < work.length) {
      const index = next++;
      const unit = work[index]!;
      const record = await engine.startChild(unit.input, mapRunArn);
      outcomes[index] = { record };
      if (record.status !== 'SUCCEEDED') {
        failedItems += unit.itemCount;
        exceeded ||= exceeds(tolerance, failedItems, items.length);
      }
    }
  };
  const workers = Math.max(1, Math.min(allowed, engine.childExecutionsAtOnce, work.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (engine.parentIsOver())
    throw new TerminalExecutionError('States.Runtime', 'The execution has already ended');
  const results = { mapRunArn, outcomes };
  const writer = isJsonObject(state.ResultWriter) ? state.ResultWriter : undefined;
  const output = writer?.Resource !== undefined ? await exportResults(writer, results, scope) : undefined;
  if (exceeded) {
    throw mapRunFailure(
      'States.ExceedToleratedFailureThreshold',
      `The Map Run ${mapRunArn} failed: ${failedItems} of ${items.length} items failed, over the tolerated ` +
        `failure threshold (${JSON.stringify(tolerance)})`,
    );
  }
  return output ?? resultsInline(writer, results);
};
