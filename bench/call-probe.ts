/**
 * Counts an SDK-shaped client's calls per operation and fails the next ones on request, by replacing its `send`
 * in place (as the chaos bench's fault injector does): what the benchmarks read and the tests script, kept out
 * of the stand-ins so that each is only the service it stands in for.
 */

export interface CallProbe<Operation extends string> {
  /** Calls per operation since the probe was put on, failed ones included. */
  readonly calls: Record<string, number>;
  /** The next `times` calls of `operation` throw `error` (e.g. a ThrottlingException) before doing anything. */
  failNext(operation: Operation, error: unknown, times?: number): void;
}

interface Sendable {
  send: (command: never) => Promise<unknown>;
}

const probes = new WeakMap<Sendable, CallProbe<string>>();

/**
 * The client's probe, put on at the first ask: counts start then, so put it on before the calls it is to count.
 * `counted` operations start at 0; others appear at their first call.
 */
export function probeCalls<Operation extends string>(
  client: Sendable,
  counted: readonly Operation[] = [],
): CallProbe<Operation> {
  const known = probes.get(client);
  if (known) return known;
  const calls: Record<string, number> = Object.fromEntries(counted.map((operation) => [operation, 0]));
  const faults = new Map<string, { error: unknown; remaining: number }>();
  const send = client.send.bind(client);
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
  // The stand-ins declare `send` readonly for their callers; the probe stands in front of it.
  Object.defineProperty(client, 'send', { value: probed, configurable: true, writable: true });
  const probe: CallProbe<Operation> = {
    calls,
    failNext: (operation, error, times = 1) => void faults.set(operation, { error, remaining: times }),
  };
  probes.set(client, probe);
  return probe;
}
