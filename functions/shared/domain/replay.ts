import { createHash } from 'node:crypto';
import { accountIdSchema } from './enrollment';
import type { RunFile } from './run-files';
import * as z from './zod';

/**
 * The input that re-runs exactly a failed run's accounts: a rotation's with its `force`, a sync's with the one
 * `secret` it synced. The run's summary gives it as `replay`, its Fail state's cause carries it as JSON, and
 * `trust-bridge replay` starts the same workflow with it (and `replayOf`).
 */
export const replayInputSchema = z.object({
  accounts: z.array(accountIdSchema).check(z.minLength(1)),
  secret: z.optional(z.string()),
  force: z.optional(z.boolean()),
});
export type ReplayInput = z.infer<typeof replayInputSchema>;

/** A file in the run files' bucket, as a run input names it. */
export const runFileSchema = z.strictObject({
  bucket: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
});

/**
 * A failed run's cause when its replay input is too long for one: where the input is kept, and how many accounts
 * failed. `trust-bridge replay` starts the new run with `replayFrom`, and its plan takes the accounts from there.
 */
export const keptReplaySchema = z.strictObject({
  replayFrom: runFileSchema,
  failedAccounts: z.number(),
});
export type KeptReplay = z.infer<typeof keptReplaySchema>;

/**
 * Set by `trust-bridge replay` on the run it starts: the execution whose failed items this run repeats. Only a
 * link for operators and the audit trail; planning ignores it.
 */
export const replayOfSchema = z
  .string()
  .check(
    z.regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/,
      'must be an execution ARN',
    ),
  );

/** Step Functions keeps at most 32,768 characters of a Fail state's cause. */
const MAX_CAUSE = 32_768;

/** The replay input as a failed run's cause carries it (JSON), or undefined when it would not fit one. */
export const replayCause = (replay: ReplayInput): string | undefined => {
  const json = JSON.stringify(replay);
  return json.length <= MAX_CAUSE ? json : undefined;
};

/** How a run ends, as its summary step reports it to the Fail state ('Did Any Account Fail?'). */
export interface RunOutcome {
  /** The input that re-runs exactly the failed accounts, when it fits a cause (none failed: no accounts). */
  replay?: ReplayInput;
  /** Where that input is kept when it does not fit a cause. */
  replayFile?: RunFile;
  /** Set when any account failed: what the execution's Fail state reports. */
  error?: 'AccountsFailed';
  cause?: string;
}

/** The replay input a failed run's cause carries; undefined when it carries none (another error, or too long). */
export const replayInputOf = (cause: string | undefined): ReplayInput | undefined =>
  parsedCause(replayInputSchema, cause);

/** Where a failed run's cause says its replay input is kept, when that was too long for the cause. */
export const keptReplayOf = (cause: string | undefined): KeptReplay | undefined =>
  parsedCause(keptReplaySchema, cause);

const parsedCause = <S extends z.ZodMiniType>(
  schema: S,
  cause: string | undefined,
): z.output<S> | undefined => {
  let json: unknown;
  try {
    json = JSON.parse(cause ?? '');
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
};

/** Step Functions takes execution names of at most 80 characters. */
const EXECUTION_NAME_MAX = 80;
const REPLAY_SUFFIX = '-replay';

/** Whether a name is one replayNameOf gives. */
export const isReplayName = (name: string): boolean => name.endsWith(REPLAY_SUFFIX);

/**
 * The one name a replay of `name` gets, so a second replay of the same run finds the first. Over 80 characters,
 * the name is cut and a hash of the whole keeps it unique. The characters are the original's, which AWS took.
 */
export const replayNameOf = (name: string): string => {
  const plain = `${name}${REPLAY_SUFFIX}`;
  if (plain.length <= EXECUTION_NAME_MAX) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  // Cut by code point, so a name with characters outside the BMP is never split inside one.
  const head = [...name].slice(0, EXECUTION_NAME_MAX - REPLAY_SUFFIX.length - hash.length - 1).join('');
  return `${head}-${hash}${REPLAY_SUFFIX}`;
};
