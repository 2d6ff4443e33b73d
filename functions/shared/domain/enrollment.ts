import { z } from 'zod';

/** An AWS account id: exactly twelve digits. */
export const accountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** An IAM role name (IAM allows [\w+=,.@-], 1–64 characters). */
const roleNameSchema = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name');

/** A service or environment name: the pieces of a SPIFFE ID path, so the same characters. */
const segmentSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-zA-Z0-9_-][a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "-" and "_"');

export const enrollmentSchema = z.strictObject({
  service: segmentSchema,
  environment: segmentSchema,
  accountId: accountIdSchema,
  identity: z.boolean().default(false),
  secrets: z.boolean().default(false),
  readerRoles: z.array(roleNameSchema).default([]),
});

/** One (service, environment) → AWS account pairing, and what is turned on for it. */
export type Enrollment = z.infer<typeof enrollmentSchema>;

/** The key that must be unique across the registry. */
export const enrollmentKey = (e: Pick<Enrollment, 'service' | 'environment'>): string =>
  `${e.service}/${e.environment}`;
