/**
 * Counts a LocalSecretsManager's calls per operation and fails the next ones on request: what the benchmarks
 * read and the tests script, kept out of the stand-in so that it is only Secrets Manager.
 */
import type { LocalServices } from '../local-stack/stack';

type LocalSecretsManager = LocalServices['secretsManager'];

/** The operations the stand-in implements, as Secrets Manager names them. */
export type SecretsManagerOperation =
  | 'CreateSecret'
  | 'PutSecretValue'
  | 'DescribeSecret'
  | 'ListSecrets'
  | 'GetSecretValue'
  | 'TagResource'
  | 'UntagResource'
  | 'PutResourcePolicy'
  | 'GetResourcePolicy'
  | 'DeleteResourcePolicy'
  | 'DeleteSecret'
  | 'RestoreSecret'
  | 'BatchGetSecretValue'
  | 'UpdateSecretVersionStage';

export interface SecretsManagerProbe {
  /** Calls per operation since the probe was put on, failed ones included. */
  readonly calls: Record<string, number>;
  /** The next `times` calls of `operation` throw `error` (e.g. a ThrottlingException) before doing anything. */
  failNext(operation: SecretsManagerOperation, error: unknown, times?: number): void;
}

const probes = new WeakMap<LocalSecretsManager, SecretsManagerProbe>();

/**
 * The store's probe, put on at the first ask by replacing its `send` (as the chaos bench's fault injector does):
 * counts start then, so put it on before the calls it is to count.
 */
export function probeSecretsManager(store: LocalSecretsManager): SecretsManagerProbe {
  const known = probes.get(store);
  if (known) return known;
  const calls: Record<string, number> = {};
  const faults = new Map<string, { error: unknown; remaining: number }>();
  const send = store.send.bind(store);
  const probed = async (command: object) => {
    const operation = command.constructor.name.replace(/Command$/, '');
    calls[operation] = (calls[operation] ?? 0) + 1;
    const fault = faults.get(operation);
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.delete(operation);
      throw fault.error;
    }
    return send(command as never);
  };
  // The stand-in declares `send` readonly for its callers; the probe stands in front of it.
  Object.defineProperty(store, 'send', { value: probed, configurable: true, writable: true });
  const probe: SecretsManagerProbe = {
    calls,
    failNext: (operation, error, times = 1) => void faults.set(operation, { error, remaining: times }),
  };
  probes.set(store, probe);
  return probe;
}
