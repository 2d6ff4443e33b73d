import { historyEventsOf, isStateTransition } from './history';
import { type EngineLimits, serializeWithinLimit, TerminalExecutionError } from './limits';
import { type ReferencePath, resolveReferencePath } from './reference-path';

/** A Map whose concurrency comes from its input: checked when the Map is entered. */
export interface MapConcurrencyCheck {
  /** The Map's InputPath (null: the Map sees `{}`), applied before MaxConcurrencyPath as the engine does. */
  inputPath: ReferencePath | null | undefined;
  maxConcurrencyPath: ReferencePath;
}

/** The shape of aws-local-stepfunctions' event log entries that the watch reads. */
interface EngineEvent {
  type: string;
  state?: { name: string; type: string; input: unknown; output?: unknown };
}

/** Called with each state's input (on entry) and output (on exit). */
export type StatePayloadObserver = (stateName: string, kind: 'input' | 'output', payload: unknown) => void;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Follows one execution and enforces the quotas the engine does not know. It keeps counters only, never the
 * events, so memory stays flat however long the execution runs.
 *
 * The engine's event log is asynchronous: it lags the execution by a few microtasks. A violation seen there
 * aborts the execution, and every Task binding first lets the log catch up (admitTask), so no handler starts
 * after the execution has broken a quota.
 */
export class ExecutionWatch {
  historyEvents = 0;
  stateTransitions = 0;
  #failure: TerminalExecutionError | undefined;
  #ended = false;

  constructor(
    private readonly limits: EngineLimits,
    private readonly mapChecks: ReadonlyMap<string, MapConcurrencyCheck>,
    private readonly context: unknown,
    private readonly abort: () => void,
    private readonly onStatePayload?: StatePayloadObserver,
  ) {}

  /** The quota this execution broke, if any: it decides the execution's outcome. */
  get failure(): TerminalExecutionError | undefined {
    return this.#failure;
  }

  async follow(events: AsyncIterable<EngineEvent>): Promise<void> {
    for await (const event of events) {
      try {
        this.observe(event);
      } catch (error) {
        if (!(error instanceof TerminalExecutionError)) throw error;
        this.fail(error);
      }
    }
  }

  /** Runs a check; a broken quota fails the whole execution, not only the caller. */
  enforce<T>(check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof TerminalExecutionError) this.fail(error);
      throw error;
    }
  }

  /** Whether the execution broke a quota or ended: nothing more may start for it. */
  get isOver(): boolean {
    return this.#ended || this.#failure !== undefined;
  }

  /** Admits one Task call (counted as `callEvents` history events), or throws if the execution failed or ended. */
  async admitTask(callEvents: number): Promise<void> {
    await nextTurn();
    if (this.#failure) throw this.#failure;
    if (this.#ended) throw new TerminalExecutionError('States.Runtime', 'The execution has already ended');
    this.enforce(() => this.count(callEvents));
  }

  /**
   * Refuses every later Task: when a Map fails, the engine still starts its queued iterations and lets running
   * ones go on; their Tasks must not act for an execution that is over.
   */
  end() {
    this.#ended = true;
  }

  private fail(error: TerminalExecutionError) {
    if (this.#failure) return;
    this.#failure = error;
    this.abort();
  }

  private observe(event: EngineEvent) {
    this.count(historyEventsOf(event));
    if (isStateTransition(event)) this.stateTransitions += 1;
    const state = event.state;
    if (!state) return;
    if (event.type === 'StateEntered') {
      this.onStatePayload?.(state.name, 'input', state.input);
      serializeWithinLimit(state.input, `The input of state "${state.name}"`, this.limits);
      this.checkMapConcurrency(state.name, state.input);
    }
    if (event.type === 'StateExited') {
      this.onStatePayload?.(state.name, 'output', state.output);
      serializeWithinLimit(state.output, `The output of state "${state.name}"`, this.limits);
    }
  }

  private count(events: number) {
    this.historyEvents += events;
    if (this.historyEvents > this.limits.historyEvents) {
      throw new TerminalExecutionError(
        'States.Runtime',
        `The execution history limit of ${this.limits.historyEvents.toLocaleString('en-US')} events exceeded`,
      );
    }
  }

  private checkMapConcurrency(stateName: string, rawInput: unknown) {
    const check = this.mapChecks.get(stateName);
    if (!check) return;
    const input = check.inputPath ? resolveReferencePath(check.inputPath, rawInput, this.context) : rawInput;
    const value = resolveReferencePath(
      check.maxConcurrencyPath,
      check.inputPath === null ? {} : input,
      this.context,
    );
    const bound = this.limits.mapConcurrency;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > bound) {
      throw new TerminalExecutionError(
        'States.Runtime',
        `Map "${stateName}": MaxConcurrencyPath gave ${JSON.stringify(value ?? null)}; an inline Map runs 1 to ${bound} iterations at once`,
      );
    }
  }
}
