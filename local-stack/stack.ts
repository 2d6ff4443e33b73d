import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ExecutionRecord,
  LocalStepFunctions,
  type StatePayloadObserver,
  type TaskHandler,
} from '../engine';
import { createHandler as receiveWebhook } from '../functions/receive-webhook/receive-webhook';
import type { Dependencies } from '../functions/shared/dependencies';
import type { RotationRequest } from '../functions/shared/domain/rotation';
import type { SyncRequest } from '../functions/shared/domain/sync';
import { readExecutionRecords, settleExecutionRecords, writeExecutionRecord } from './execution-records';
import { localConfig } from './local-config';
import type { Warn } from './stand-ins/damaged-files';
import { FileAccountStatusLog } from './stand-ins/file-account-status';
import { readAuditLog } from './stand-ins/local-event-bus';
import { localCentralSecretsManager, readLocalWebhookKey } from './stand-ins/local-webhook-key';
import { LocalSecretsManager } from './stand-ins/secrets-manager/local-secrets-manager';
import { type LocalDependencies, type LocalOptions, localDependencies } from './local-dependencies';
import { startWebhookServer } from './webhook-server';
import { DEFAULT_WEBHOOK_SYNC_CONCURRENCY, WebhookSyncQueue } from './webhook-sync-queue';
import { CONTAINER_STEPS, FunctionContainers } from './function-containers';
import { InvalidConfiguration } from '../functions/shared/domain/errors';

/** The manifest serverless.yml binds too: each `${Placeholder}` naming a function, and the step serving it. */
const STEPS = Object.entries(
  JSON.parse(readFileSync(fileURLToPath(new URL('../statemachines/steps.json', import.meta.url)), 'utf8')),
).filter((entry): entry is [string, string] => !entry[0].startsWith('$'));

/** A step's Middy handler over the dependencies: what its module (functions/<step>/<step>.ts) exports. */
const stepHandler = async (step: string): Promise<(deps: Dependencies) => TaskHandler> =>
  (
    (await import(`../functions/${step}/${step}.ts`)) as {
      createHandler: (deps: Dependencies) => TaskHandler;
    }
  ).createHandler;

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
  /** Runs each step's handler as a platform would, e.g. a simulation's Lambda with its concurrency and cold starts. */
  runStep?: (step: string, handler: TaskHandler) => TaskHandler;
  /** Called with every finished execution, children included, once it is written under the data directory. */
  onExecutionRecorded?: (record: ExecutionRecord) => void;
  /** Where an execution record that cannot be read is reported as skipped (default: stderr). */
  warn?: Warn;
  /** Webhook syncs run at once (default DEFAULT_WEBHOOK_SYNC_CONCURRENCY); later changes wait in a queue. */
  webhookSyncConcurrency?: number;
  /**
   * Worker threads that run the per-account steps (CONTAINER_STEPS), as Lambda runs functions in containers of
   * their own, so signing and the stand-ins' work use more than one core; 0 (the default) runs every step here.
   * A container makes its own ports, so it takes no `decorate`, `runStep` or `now`.
   */
  functionContainers?: number;
}

/**
 * The embedded default: the real state machines on the local engine, each Task bound to the same Middy
 * handler that runs on Lambda, over the local stand-ins; the webhook rule on the local bus starts syncs.
 */
export const createLocalStack = async (options: LocalStackOptions) => {
  const containerCount = options.functionContainers ?? 0;
  if (containerCount > 0 && (options.decorate || options.runStep || options.now)) {
    throw new InvalidConfiguration(
      'function containers make their own ports: give decorate, runStep or now without them',
    );
  }
  const opened = await localDependencies(options);
  const containers =
    containerCount > 0
      ? await closedOnFailure(opened, () =>
          FunctionContainers.start(containerCount, {
            steps: CONTAINER_STEPS,
            accountSteps: opened.accountSteps,
            logLevel: options.logLevel,
          }),
        )
      : undefined;
  const local: LocalDependencies = {
    ...opened,
    close: async () => {
      await containers?.close();
      await opened.close();
    },
  };
  const { deps, engine } = await closedOnFailure(local, () => openEngine(options, local, containers));

  // The rule serverless.yml puts on the bus: a Keywhiz change starts a sync of that secret (InputPath $.detail),
  // through a queue that bounds the syncs running at once and folds repeated changes of a queued secret.
  const webhookSyncs = new WebhookSyncQueue(
    options.webhookSyncConcurrency ?? DEFAULT_WEBHOOK_SYNC_CONCURRENCY,
    (request) => engine.startExecution(SYNC_SECRETS, request),
  );
  const webhookHandler = receiveWebhook(deps);
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
    webhookHandler,
    /** The webhook receiver on 127.0.0.1 (port 0 picks a free one); close it before the stack. */
    serveWebhooks: (port: number) => startWebhookServer({ handler: webhookHandler, port }),
    /** Every event on the audit bus so far, oldest first. */
    auditEvents: () => readAuditLog(options.dataDir, local.config.AUDIT_BUS_NAME),
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
const openEngine = async (
  options: LocalStackOptions,
  local: LocalDependencies,
  containers: FunctionContainers | undefined,
) => {
  const { writer } = local;
  const deps = options.decorate ? options.decorate(local.deps) : local.deps;
  const { AWS_REGION: region, CENTRAL_ACCOUNT_ID: account } = local.config;
  const engine = new LocalStepFunctions({
    region,
    accountId: account,
    zeroDelays: !options.realDelays,
    // The Distributed Maps read each run's plan from, and write its results to, the run files' bucket.
    s3: local.services.s3,
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
  for (const [placeholder, step] of STEPS) {
    // Each handler is the Middy-wrapped Lambda handler, called as Lambda would call it.
    const created =
      containers && CONTAINER_STEPS.includes(step)
        ? containers.handler(step)
        : (await stepHandler(step))(deps);
    const handler = options.runStep ? options.runStep(step, created) : created;
    if (placeholder.endsWith('FunctionName')) {
      // Deployed in every enrolled account under one name (the sync agent); locally one handler serves them all.
      engine.bindResource(`arn:aws:lambda:${region}:*:function:${substitutions[placeholder]}`, handler);
      continue;
    }
    const arn = `arn:aws:lambda:${region}:${account}:function:trust-bridge-local-${step}`;
    substitutions[placeholder] = arn;
    engine.bindResource(arn, handler);
  }
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

/**
 * What a data directory holds, read without holding it, so the operator commands can read while another process
 * runs the stack (start --serve), and a benchmark can check what a run left: past runs, the central and the
 * accounts' Secrets Manager, the audit bus, the account status records and the webhook signing key. Nothing here
 * starts the engine or Keywhiz.
 */
export const readLocalStack = (dataDir: string, env: Record<string, string | undefined> = {}) => {
  const config = localConfig(env);
  return {
    config,
    /** Whether a stack ever ran here: opening the stores of a directory without one would create it. */
    exists: () => existsSync(join(dataDir, 'secretsmanager', config.CENTRAL_ACCOUNT_ID)),
    /**
     * Every recorded execution; a RUNNING one whose process died reads as ABORTED. A file that is not a record is
     * skipped and reported to `warn` (default: stderr).
     */
    executions: (warn?: Warn) => readExecutionRecords(dataDir, warn),
    /** The central account's Secrets Manager (the SVIDs). */
    centralSecretsManager: () => localCentralSecretsManager(dataDir, config),
    /** An enrolled account's own Secrets Manager (its synced Keywhiz secrets). */
    accountSecretsManager: (accountId: string) =>
      new LocalSecretsManager({ dataDir, accountId, region: config.AWS_REGION }),
    /** Every event on the audit bus so far, oldest first. */
    auditEvents: () => readAuditLog(dataDir, config.AUDIT_BUS_NAME),
    accountStatus: new FileAccountStatusLog(dataDir),
    /** The current webhook signing key, created if absent, for a sender such as `trust-bridge notify`. */
    webhookKey: () => readLocalWebhookKey(dataDir, config),
  };
};

// What the operator commands need besides the stack: the errors that refuse to open it, the schedules it runs
// on (as serverless.yml deploys them), and the shape of an audit event.
export { DataDirInUse } from './data-dir-lock';
export { DataDirReconfigureRefused } from './data-dir-settings';
export { deployedSchedules } from './schedules';
export type { AuditLogEntry } from './stand-ins/local-event-bus';

// What the benchmarks need besides: the stand-ins behind the ports (`services`, to count calls and inject faults),
// the defaults the stack runs with (the webhook syncs at once, the function containers the CLI runs, the
// receiver's limits on slow clients) and the
// local values of the variables a deployed function must be given.
export type { LocalServices } from './local-dependencies';
export type { KeywhizDevServer } from './stand-ins/keywhiz/keywhiz-dev-server';
export { DEFAULT_WEBHOOK_SYNC_CONCURRENCY } from './webhook-sync-queue';
export { DEFAULT_FUNCTION_CONTAINERS } from './function-containers';
export { RECEIVER_TIMEOUTS } from './webhook-server';
export { LOCAL_ENV } from './local-config';
