/**
 * What the file-backed stand-ins share about files they cannot read back: how a problem is worded without
 * quoting the file (it may hold key material), and where a warning goes by default.
 */

/** Where a stand-in reports a file it skipped or repaired. */
export type Warn = (message: string) => void;

/** The default: standard error, beside the command's own output. */
export const warnOnStderr: Warn = (message) => console.warn(`warning: ${message}`);

/**
 * The JSON value of `text`, or why it is not JSON. The reason never quotes the text: V8's messages can
 * carry an excerpt, and these files hold secret values.
 */
export function parseJson(text: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    const where =
      position === undefined
        ? `: it stops after ${Buffer.byteLength(text)} bytes`
        : ` at character ${position}`;
    return { problem: `not valid JSON${where} (cut short, or edited?)` };
  }
}
