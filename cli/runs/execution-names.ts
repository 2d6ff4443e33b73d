/** An execution's name: the last part of its ARN. */
export const nameOf = (executionArn: string): string => executionArn.slice(executionArn.lastIndexOf(':') + 1);

/** The ARN of another execution of the same state machine. */
export const siblingExecutionArn = (executionArn: string, name: string): string =>
  `${executionArn.slice(0, executionArn.lastIndexOf(':'))}:${name}`;

/** An execution's ARN from its state machine's ARN, as AWS forms it. */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** A name may be taken in two state machines; the operator then gives the ARN. */
export const ambiguousName = (name: string, arns: string[]): Error =>
  new Error(`"${name}" names ${arns.length} executions; give one ARN: ${arns.join(', ')}`);
