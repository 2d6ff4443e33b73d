/** A Step Functions error as a Catch records it. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** Lambda reports a failure's Cause as JSON with errorMessage; other causes are plain text. */
export const causeMessage = ({ Error: name, Cause }: CaughtError): string => {
  if (!Cause) return name;
  try {
    const parsed = JSON.parse(Cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message
  }
  return Cause;
};
