import * as z from './zod';
import { InvalidRunRequest, RunTooLarge } from './errors';

/** Validates a run's execution input; `{}` when none was given. Throws InvalidRunRequest listing every problem. */
export const parseRunRequest = <S extends z.ZodMiniType>(
  schema: S,
  raw: unknown,
  what: string,
): z.output<S> => {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  throw new InvalidRunRequest(`invalid ${what} input: ${problems}`);
};

/** Keeps a run's plan well inside Step Functions' 256 KB state payload limit. */
const MAX_PLAN_BYTES = 200 * 1024;

/** Returns the plan, or throws RunTooLarge when it would not fit one run (`what` names it for the operator). */
export const withinPlanBudget = <P>(plan: P, what: string): P => {
  const size = Buffer.byteLength(JSON.stringify(plan));
  if (size > MAX_PLAN_BYTES) {
    throw new RunTooLarge(
      `the plan for ${what} is ${size} bytes, over the ${MAX_PLAN_BYTES}-byte budget of one run; start runs for subsets of accounts`,
    );
  }
  return plan;
};
