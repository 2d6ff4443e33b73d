import * as z from './zod';
import { InvalidRunRequest } from './errors';

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
