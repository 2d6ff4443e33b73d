import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type ExecutionRecord,
  LocalStepFunctions,
  type StatePayloadObserver,
  type TaskHandler,
} from '../engine';
import { createHandler as issueSvid } from '../functions/issue-svid/issue-svid';
import { createHandler as loadChunk } from '../functions/load-chunk/load-chunk';
import { createHandler as loadSyncChunk } from '../functions/load-sync-chunk/load-sync-chunk';
import { createHandler as planRotation } from '../functions/plan-rotation/plan-rotation';
import { createHandler as planSync } from '../functions/plan-sync/plan-sync';
import { createHandler as receiveWebhook } from '../functions/receive-webhook/receive-webhook';
import { createHandler as reportOutcomes } from '../functions/report-outcomes/report-outcomes';
import { createHandler as reportSyncOutcomes } from '../functions/report-sync-outcomes/report-sync-outcomes';
import { createHandler as retireSvid } from '../functions/retire-svid/retire-svid';
import type { Dependencies } from '../functions/shared/dependencies';
import type { RotationRequest } from '../functions/shared/domain/rotation';
import type { SyncRequest } from '../functions/shared/domain/sync';
import { createHandler as summarizeRotation } from '../functions/summarize-rotation/summarize-rotation';
import { createHandler as summarizeSync } from '../functions/summarize-sync/summarize-sync';
import { createHandler as syncAgent } from '../functions/sync-agent/sync-agent';
import { settleExecutionRecords, writeExecutionRecord } from './execution-records';
import type { Warn } from './stand-ins/damaged-files';
import { type LocalDependencies, type LocalOptions, localDependencies } from './local-dependencies';
import { DEFAULT_WEBHOOK_SYNC_CONCURRENCY, WebhookSyncQueue } from './webhook-sync-queue';

/** Each `${Placeholder}` of the state machines, and the step that serves it (as serverless.yml binds them on AWS). */
const FUNCTIONS = {
  PlanRotationFunctionArn: { name: 'plan-rotation', create: planRotation },
  LoadChunkFunctionArn: { name: 'load-chunk', create: loadChunk },
  IssueSvidFunctionArn: { name: 'issue-svid', create: issueSvid },
  RetireSvidFunctionArn: { name: 'retire-svid', create: retireSvid },
  ReportOutcomesFunctionArn: { name: 'report-outcomes', create: reportOutcomes },
  SummarizeRotationFunctionArn: { name: 'summarize-rotation', create: summarizeRotation },
  PlanSyncFunctionArn: { name: 'plan-sync', create: planSync },
  LoadSyncChunkFunctionArn: { name: 'load-sync-chunk', create: loadSyncChunk },
  ReportSyncOutcomesFunctionArn: { name: 'report-sync-outcomes', create: reportSyncOutcomes },
  SummarizeSyncFunctionArn: { name: 'summarize-sync', create: summarizeSync },
} as const;

export const ROTATE_SVIDS = 'rotate-svids';
export const SYNC_SECRETS = 'sync-secrets';
/** Children first: a parent's definition names its child's ARN. */
const MACHINES = ['rotate-svids-chunk', ROTATE_SVIDS, 'sync-secrets-chunk', SYNC_SECRETS];

const definition = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../statemachines/${name}.asl.json`, import.meta.url)), 'utf8');
const pattern = (name: string): Record<string, string[]> =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../events/patterns/${name}.json`, import.meta.url)), 'utf8'),
  );

export interface LocalStackOptions extends LocalOptions {
  /** Retry and Wait delays in real time (true on a schedule) or zero (tests, `--once`). */
  realDelays?: boolean;
  /** Lets a test wrap a port, e.g. a CA that throttles its first calls. */
  decorate?: (deps: Dependencies) => Dependencies;
  /** Sees every state payload, as the execution history would keep it. */
  onStatePayload?: StatePayloadObserver;
  /** Called with every finished execution, children included, once it is written under the data directory. */
  onExecutionRecorded?: (record: ExecutionRecord) => void;
  /** Where an execution record that cannot be read is reported as skipped (default: stderr). */
  warn?: Warn;
  /** Webhook syncs run at once (default DEFAULT_WEBHOOK_SYNC_CONCURRENCY); later changes wait in a queue. */
  webhookSyncConcurrency?: number;
}

/**
 * The embedded default: the real state machines on the local engine, each Task bound to the same Middy
 * handler that runs on Lambda, over the local stand-ins; the webhook rule on the local bus starts syncs.
 */
export const createLocalStack = async (options: LocalStackOptions) => {
  const local = await localDependencies(options);
  const { deps, engine } = await closedOnFailure(local, () => openEngine(options, local));

  // The rule serverless.yml puts on the bus: a Keywhiz change starts a sync of that secret (InputPath $.detail),
  // through a queue that bounds the syncs running at once and folds repeated changes of a queued secret.
  const webhookSyncs = new WebhookSyncQueue(
    options.webhookSyncConcurrency ?? DEFAULT_WEBHOOK_SYNC_CONCURRENCY,
    (request) => engine.startExecution(SYNC_SECRETS, request),
  );
  local.services.eventBus.addRule({
    pattern: pattern('keywhiz-secret-changed'),
    target: (event) => webhookSyncs.add(event.detail as SyncRequest),
  });

  return {
    ...local,
    deps,
    engine,
    /** Starts one rotation run and waits for it to end. */
    rotate: (request: Partial<RotationRequest> = {}) => engine.startExecution(ROTATE_SVIDS, request),
    /** Starts one sync run (a full reconcile unless the request names a secret) and waits for it to end. */
    sync: (request: SyncRequest = {}) => engine.startExecution(SYNC_SECRETS, request),
    /** Redrives a failed top-level execution under its own ARN and waits for it to end. */
    redrive: (executionArn: string) => engine.redriveExecution(executionArn),
    /** The webhook receiver's Lambda handler, for the local HTTP front. */
    webhookHandler: receiveWebhook(deps),
    /** The webhook syncs' queue: what it started, folded and holds now. */
    webhookSyncs: () => webhookSyncs.status(),
    /** Waits until no webhook sync runs or waits; gives the executions that ended since the last call. */
    settled: () => webhookSyncs.settled(),
  };
};

/** Runs a step of opening the stack; when it fails, closes what was opened before it (nothing is left running). */
const closedOnFailure = async <T>(local: LocalDependencies, step: () => Promise<T>): Promise<T> => {
  try {
    return await step();
  } catch (error) {
    await local.close().catch(() => {});
    throw error;
  }
};

/** The engine with every state machine registered, each Task bound to its handler, and the past runs restored. */
const openEngine = async (options: LocalStackOptions, local: LocalDependencies) => {
  const { writer } = local;
  const deps = options.decorate ? options.decorate(local.deps) : local.deps;
  const { AWS_REGION: region, CENTRAL_ACCOUNT_ID: account } = local.config;
  const engine = new LocalStepFunctions({
    region,
    accountId: account,
    zeroDelays: !options.realDelays,
    ...(options.onStatePayload ? { onStatePayload: options.onStatePayload } : {}),
    // Recorded as it starts, so a run whose process dies leaves a RUNNING record that later reads as ABORTED.
    onExecutionStarted: (execution) =>
      writeExecutionRecord(options.dataDir, {
        ...execution,
        writer: { pid: writer.pid, token: writer.token },
      }),
    onExecutionRecorded: async (record) => {
      await writeExecutionRecord(options.dataDir, record);
      options.onExecutionRecorded?.(record);
    },
  });

  const substitutions: Record<string, string> = {
    AwsRegion: region,
    AwsPartition: 'aws',
    SyncAgentFunctionName: local.config.SYNC_AGENT_FUNCTION_NAME,
    SyncInvokerRoleName: local.config.SYNC_INVOKER_ROLE_NAME,
  };
  for (const name of MACHINES) substitutions[`${pascal(name)}StateMachineArn`] = engine.stateMachineArn(name);
  for (const [placeholder, fn] of Object.entries(FUNCTIONS)) {
    const arn = `arn:aws:lambda:${region}:${account}:function:trust-bridge-local-${fn.name}`;
    substitutions[placeholder] = arn;
    // Each handler is the Middy-wrapped Lambda handler, called as Lambda would call it.
    engine.bindResource(arn, fn.create(deps) as TaskHandler);
  }
  // The agent is deployed in every enrolled account under one name; locally one handler serves them all.
  engine.bindResource(
    `arn:aws:lambda:${region}:*:function:${local.config.SYNC_AGENT_FUNCTION_NAME}`,
    syncAgent(deps) as TaskHandler,
  );
  for (const name of MACHINES) engine.registerStateMachine(name, definition(name), { substitutions });
  engine.restoreExecutions(await settleExecutionRecords(options.dataDir, writer, options.warn));
  return { deps, engine };
};

const pascal = (name: string) =>
  name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

export type LocalStack = Awaited<ReturnType<typeof createLocalStack>>;
