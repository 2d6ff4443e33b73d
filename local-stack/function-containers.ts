import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LambdaLikeContext, TaskHandler } from '../engine';
import type { ContainerSetup } from './function-container';

/**
 * The steps that run once per account, the bulk of a rotation's and a sync's work: with containers, each runs in
 * worker threads beside the engine, as Lambda runs each function in containers of its own.
 */
export const CONTAINER_STEPS: readonly string[] = ['issue-svid', 'retire-svid', 'sync-agent'];

/** One container per core beside the engine's thread: more only share the same cores (measured on 2 cores). */
export const DEFAULT_FUNCTION_CONTAINERS = Math.max(1, availableParallelism() - 1);

/** How long a container may take to close its stand-ins before it is stopped. */
const CLOSE_TIMEOUT_MS = 5_000;

export interface ContainerInvocation {
  id: number;
  step: string;
  event: unknown;
  context: { invokedFunctionArn: string; awsRequestId: string; remainingMs: number };
}

export type ContainerReply =
  { id: number; output: unknown } | { id: number; error: { name: string; message: string } };

interface Container {
  worker: Worker;
  pending: Map<number, { resolve: (output: unknown) => void; reject: (error: Error) => void }>;
}

/**
 * Worker threads running the per-account steps (function-container.ts), each with adapters and stand-ins of its
 * own over the stack's data directory. An account's invocations always go to the same container: its writes to
 * its own files stay in call order, and ACM Private CA's idempotency token finds the certificate it names (the
 * CA stand-in keeps those per container).
 */
export class FunctionContainers {
  private nextId = 0;

  private constructor(
    private readonly containers: Container[],
    private readonly setup: ContainerSetup,
  ) {}

  /** Starts `count` containers and waits until each holds its handlers. */
  static async start(count: number, setup: ContainerSetup): Promise<FunctionContainers> {
    const pool = new FunctionContainers([], setup);
    try {
      await Promise.all(Array.from({ length: count }, (_, slot) => pool.open(slot)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** The step's handler, as the engine binds it: each call runs in the container of its account. */
  handler(step: string): TaskHandler {
    return (event: unknown, context: LambdaLikeContext) => {
      const container = this.containers[slotOf(accountOf(event), this.containers.length)];
      if (!container) return Promise.reject(new Error('the function containers are closed'));
      const id = (this.nextId += 1);
      const invocation: ContainerInvocation = {
        id,
        step,
        event,
        context: {
          invokedFunctionArn: context.invokedFunctionArn,
          awsRequestId: context.awsRequestId,
          remainingMs: context.getRemainingTimeInMillis(),
        },
      };
      return new Promise((resolve, reject) => {
        container.pending.set(id, { resolve, reject });
        container.worker.postMessage(invocation);
      });
    };
  }

  /** Lets each container close its stand-ins (a few seconds at most), then stops it. */
  async close(): Promise<void> {
    const containers = this.containers.splice(0);
    await Promise.all(
      containers.map(async ({ worker }) => {
        const closed = new Promise<void>((done) => {
          const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
          const end = () => (clearTimeout(timer), done());
          worker.on('message', (message) => message === 'closed' && end());
          worker.once('exit', end);
        });
        worker.postMessage('close');
        await closed;
        await worker.terminate();
      }),
    );
  }

  private open(slot: number): Promise<void> {
    const worker = new Worker(new URL('./function-container-boot.mjs', import.meta.url), {
      workerData: this.setup,
    });
    const container: Container = { worker, pending: new Map() };
    this.containers[slot] = container;
    return new Promise<void>((ready, failed) => {
      worker.on('message', (message: ContainerReply | { ready: true } | 'closed') => {
        if (message === 'closed') return;
        if ('ready' in message) return ready();
        const call = container.pending.get(message.id);
        container.pending.delete(message.id);
        if ('error' in message) call?.reject(Object.assign(new Error(message.error.message), message.error));
        else call?.resolve(message.output);
      });
      worker.on('error', failed);
      worker.on('exit', (code) => {
        failed(new Error(`a function container exited with ${code} while starting`));
        // Lambda answers an invocation whose container died so; the state machines retry it.
        const died = Object.assign(new Error(`the function container exited with ${code}`), {
          name: 'Lambda.ServiceException',
        });
        for (const call of container.pending.values()) call.reject(died);
        container.pending.clear();
        if (this.containers[slot] === container) void this.open(slot).catch(() => undefined);
      });
    });
  }
}

/** The account an invocation is for: the issuer's and retirer's item, the sync agent's target. */
const accountOf = (event: unknown): string => {
  const e = event as { item?: { accountId?: unknown }; target?: { accountId?: unknown } } | null;
  const id = e?.item?.accountId ?? e?.target?.accountId;
  return typeof id === 'string' ? id : '';
};

const slotOf = (key: string, slots: number): number => {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  return hash % Math.max(slots, 1);
};
