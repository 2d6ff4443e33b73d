import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalStepFunctions, type StatePayloadObserver, type TaskHandler } from '../engine';
import { createHandler as issueSvid } from '../functions/issue-svid/issue-svid';
import { createHandler as loadChunk } from '../functions/load-chunk/load-chunk';
import { createHandler as planRotation } from '../functions/plan-rotation/plan-rotation';
import { createHandler as reportOutcomes } from '../functions/report-outcomes/report-outcomes';
import { createHandler as retireSvid } from '../functions/retire-svid/retire-svid';
import type { Dependencies } from '../functions/shared/dependencies';
import type { RotationRequest } from '../functions/shared/domain/rotation';
import { createHandler as summarizeRotation } from '../functions/summarize-rotation/summarize-rotation';
import { type LocalOptions, localDependencies } from './local-dependencies';

/** Each `${Placeholder}` of the state machines, and the step that serves it (as serverless.yml binds them on AWS). */
const FUNCTIONS = {
  PlanRotationFunctionArn: { name: 'plan-rotation', create: planRotation },
  LoadChunkFunctionArn: { name: 'load-chunk', create: loadChunk },
  IssueSvidFunctionArn: { name: 'issue-svid', create: issueSvid },
  RetireSvidFunctionArn: { name: 'retire-svid', create: retireSvid },
  ReportOutcomesFunctionArn: { name: 'report-outcomes', create: reportOutcomes },
  SummarizeRotationFunctionArn: { name: 'summarize-rotation', create: summarizeRotation },
} as const;

export const ROTATE_SVIDS = 'rotate-svids';
const ROTATE_SVIDS_CHUNK = 'rotate-svids-chunk';

const definition = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../statemachines/${name}.asl.json`, import.meta.url)), 'utf8');

export interface LocalStackOptions extends LocalOptions {
  /** Retry and Wait delays in real time (true on a schedule) or zero (tests, `--once`). */
  realDelays?: boolean;
  /** Lets a test wrap a port, e.g. a CA that throttles its first calls. */
  decorate?: (deps: Dependencies) => Dependencies;
  /** Sees every state payload, as the execution history would keep it. */
  onStatePayload?: StatePayloadObserver;
}

/**
 * The embedded default: the real state machines on the local engine, each Task bound to the same Middy
 * handler that runs on Lambda, over the local stand-ins.
 */
export const createLocalStack = async (options: LocalStackOptions) => {
  const local = await localDependencies(options);
  const deps = options.decorate ? options.decorate(local.deps) : local.deps;
  const { AWS_REGION: region, CENTRAL_ACCOUNT_ID: account } = local.config;
  const engine = new LocalStepFunctions({
    region,
    accountId: account,
    zeroDelays: !options.realDelays,
    ...(options.onStatePayload ? { onStatePayload: options.onStatePayload } : {}),
  });

  const substitutions: Record<string, string> = {
    RotateSvidsChunkStateMachineArn: engine.stateMachineArn(ROTATE_SVIDS_CHUNK),
  };
  for (const [placeholder, fn] of Object.entries(FUNCTIONS)) {
    const arn = `arn:aws:lambda:${region}:${account}:function:trust-bridge-local-${fn.name}`;
    substitutions[placeholder] = arn;
    // Each handler is the Middy-wrapped Lambda handler, called as Lambda would call it.
    engine.bindResource(arn, fn.create(deps) as TaskHandler);
  }
  engine.registerStateMachine(ROTATE_SVIDS_CHUNK, definition(ROTATE_SVIDS_CHUNK), { substitutions });
  engine.registerStateMachine(ROTATE_SVIDS, definition(ROTATE_SVIDS), { substitutions });

  return {
    ...local,
    deps,
    engine,
    /** Starts one rotation run and waits for it to end. */
    rotate: (request: Partial<RotationRequest> = {}) => engine.startExecution(ROTATE_SVIDS, request),
  };
};

export type LocalStack = Awaited<ReturnType<typeof createLocalStack>>;
