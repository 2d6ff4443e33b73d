/**
 * One function container (a worker thread of function-containers.ts): like a warm Lambda container, it holds the
 * per-account steps' handlers over adapters and stand-ins of its own, on the same data directory as the stack,
 * and runs the invocations the stack sends it.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { lambdaContext, type TaskHandler } from '../engine/task-binding';
import { type AccountStepsSetup, accountSteps, localLogger } from './local-dependencies';
import type { ContainerInvocation, ContainerReply } from './function-containers';
import { SoftwareCertificateAuthority } from './stand-ins/software-ca/software-ca';

export interface ContainerSetup {
  steps: readonly string[];
  accountSteps: AccountStepsSetup;
  logLevel: Parameters<typeof localLogger>[0];
}

const setup = workerData as ContainerSetup;
const { dataDir, config } = setup.accountSteps;
const ca = await SoftwareCertificateAuthority.open(join(dataDir, 'ca'), config.TRUST_DOMAIN);
const steps = accountSteps(setup.accountSteps, ca, () => new Date());
const deps = {
  config,
  logger: localLogger(setup.logLevel),
  ...steps.ports,
  now: () => new Date(),
};
const handlers = new Map<string, TaskHandler>();
for (const step of setup.steps) {
  const module = (await import(`../functions/${step}/${step}.ts`)) as {
    createHandler: (dependencies: typeof deps) => TaskHandler;
  };
  handlers.set(step, module.createHandler(deps));
}

const port = parentPort;
if (!port) throw new Error('function-container.ts runs as a worker thread of function-containers.ts');
port.on('message', async (message: ContainerInvocation | 'close') => {
  if (message === 'close') {
    // Asked once the stack's runs are over: the stand-ins remove the spare files their writes keep.
    await steps.close();
    port.postMessage('closed');
    return;
  }
  const { id, step, event, context } = message;
  const handler = handlers.get(step);
  let reply: ContainerReply;
  try {
    if (!handler) throw new Error(`this container does not run ${step}`);
    const output = await handler(event, {
      ...lambdaContext(context.invokedFunctionArn, context.remainingMs),
      awsRequestId: context.awsRequestId,
    });
    reply = { id, output };
  } catch (thrown) {
    // Lambda reports an error by its type and message; the stack rethrows it as the handler's own.
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    reply = { id, error: { name: error.name, message: error.message } };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
