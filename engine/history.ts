/**
 * How many AWS history events each local engine event stands for, so the 25,000-event quota can be enforced.
 *
 * AWS history                                                      | local engine event
 * ExecutionStarted / ExecutionSucceeded|Failed|Aborted|TimedOut    | Execution* → 1 each
 * <Type>StateEntered, <Type>StateExited (Pass, Choice, Wait, ...)  | StateEntered, StateExited → 1 each
 * MapStateEntered + MapStateStarted, MapStateSucceeded + Exited    | Map StateEntered → 2, StateExited → 2
 * ParallelStateEntered + Started, ParallelStateSucceeded + Exited  | Parallel StateEntered → 2, StateExited → 2
 * MapStateFailed / ParallelStateFailed                             | Map/Parallel StateFailed → 1
 * MapIterationStarted / Succeeded / Failed                         | MapIteration* → 1 each
 * LambdaFunctionScheduled, Started, Succeeded|Failed               | each call of a Lambda binding → 3
 *   (so a Lambda Task is 5 in all; a retry adds Failed + Scheduled + Started = 3)
 * TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded|Failed  | each child execution (.sync) call → 4
 * MapStateEntered, MapStateExited of a Distributed Map             | its Task's StateEntered, StateExited → 1 each
 * MapStateStarted, MapRunStarted, MapRunSucceeded|Failed,          | each Map Run → 4 (its child executions have
 *   MapStateSucceeded|Failed                                       |   histories of their own, not counted here)
 * Task StateFailed, StateRetried, StateCaught, ParallelBranch*     | → 0 (covered by the calls above or absent on AWS)
 */

export const LAMBDA_CALL_EVENTS = 3;
export const CHILD_EXECUTION_CALL_EVENTS = 4;
export const MAP_RUN_EVENTS = 4;

interface EngineEvent {
  type: string;
  state?: { type: string };
}

const isContainer = (event: EngineEvent) => event.state?.type === 'Map' || event.state?.type === 'Parallel';

export const historyEventsOf = (event: EngineEvent): number => {
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return 1;
    case 'StateEntered':
    case 'StateExited':
      return isContainer(event) ? 2 : 1;
    case 'StateFailed':
      return isContainer(event) ? 1 : 0;
    default:
      return 0;
  }
};

/** AWS bills a transition per state entered and per retry. */
export const isStateTransition = (event: EngineEvent): boolean =>
  event.type === 'StateEntered' || event.type === 'StateRetried';
