import * as z from './zod';
import { InvalidEnrollment } from './errors';

/** An AWS account id: exactly twelve digits. */
export const accountIdSchema = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));

/** An IAM role name (IAM allows [\w+=,.@-], 1–64 characters). */
const roleNameSchema = z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name'));

/** A service or environment name: the pieces of a SPIFFE ID path, so the same characters. */
export const nameSegmentSchema = z
  .string()
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(63, 'must be at most 63 characters'),
    z.regex(/^[a-zA-Z0-9_-][a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "-" and "_"'),
  );

export const enrollmentSchema = z.strictObject({
  service: nameSegmentSchema,
  environment: nameSegmentSchema,
  accountId: accountIdSchema,
  identity: z._default(z.boolean(), false),
  secrets: z._default(z.boolean(), false),
  readerRoles: z._default(z.array(roleNameSchema), []),
});

/** One (service, environment) → AWS account pairing, and what is turned on for it. */
export type Enrollment = z.infer<typeof enrollmentSchema>;

/**
 * The roles an enrollment's SVID policy lets read it: its reader roles, and the sync agent's when it syncs secrets
 * (the agent shows Keywhiz this SVID). The plan judges a stored policy by the same list the issuing step writes.
 */
export const svidReaderRoles = (
  e: Pick<Enrollment, 'secrets' | 'readerRoles'>,
  syncAgentRoleName: string,
): string[] => (e.secrets ? [...e.readerRoles, syncAgentRoleName] : e.readerRoles);

/** The key that must be unique across the registry. */
export const enrollmentKey = (e: Pick<Enrollment, 'service' | 'environment'>): string =>
  `${e.service}/${e.environment}`;

/**
 * The largest registry read, as a file or as a response. 100,000 realistic records (two reader roles each) take
 * 20.7 MB as YAML and 26.7 MB as indented JSON; more would only cost memory and time before any check ran.
 */
export const ENROLLMENTS_MAX_BYTES = 32 * 1024 * 1024;

/** A registry over ENROLLMENTS_MAX_BYTES, named by its file or URL; `bytes` when its whole size is known. */
export const registryTooLarge = (source: string, bytes?: number): InvalidEnrollment =>
  new InvalidEnrollment(
    `${source}: ${bytes === undefined ? 'more than' : `${mebibytes(bytes)} MiB, over`} the ` +
      `${mebibytes(ENROLLMENTS_MAX_BYTES)} MiB an enrollment registry may hold; refused before parsing. ` +
      '100,000 records take about 21 MB of YAML: look for padding or repeated records',
  );

const mebibytes = (bytes: number): string => String(Math.round((bytes / 1024 / 1024) * 10) / 10);

/** At most this many problems are spelled out in one InvalidEnrollment message. */
const MAX_PROBLEMS_LISTED = 20;

/**
 * Validates a whole registry (`{ enrollments: [...] }`, already parsed from YAML or JSON).
 * Throws one InvalidEnrollment naming every broken record and field, and returns nothing, if any
 * record is broken: a half-read registry would retire the SVIDs of the records it dropped.
 * `source` (a file path or URL) starts the message so an operator knows what to fix.
 */
export function parseEnrollments(raw: unknown, source: string): Enrollment[] {
  if (!isMapping(raw) || !Array.isArray(raw.enrollments)) {
    throw new InvalidEnrollment(`${source}: must be a mapping with an "enrollments:" list`);
  }
  const problems = Object.keys(raw)
    .filter((key) => key !== 'enrollments')
    .map((key) => `unknown top-level key "${key}"`);
  const enrollments: Enrollment[] = [];
  const firstRecordOf = new Map<string, number>();

  raw.enrollments.forEach((record: unknown, index) => {
    const label = recordLabel(record, index);
    const parsed = enrollmentSchema.safeParse(record);
    if (parsed.success) {
      enrollments.push(parsed.data);
    } else {
      problems.push(...describeIssues(parsed.error.issues, record).map((p) => `${label}: ${p}`));
    }
    if (isMapping(record) && typeof record.service === 'string' && typeof record.environment === 'string') {
      const key = enrollmentKey({ service: record.service, environment: record.environment });
      const first = firstRecordOf.get(key);
      if (first === undefined) firstRecordOf.set(key, index);
      else problems.push(`${label}: duplicates record ${first + 1} (same service and environment)`);
    }
  });

  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_PROBLEMS_LISTED);
    const more = problems.length - listed.length;
    throw new InvalidEnrollment(
      `${source}: ${listed.join('; ')}${more > 0 ? `; and ${more} more problems` : ''}`,
    );
  }
  return enrollments;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "record 3 (payments/prod)": 1-based, as a person counts list items in the file. */
function recordLabel(record: unknown, index: number): string {
  const known =
    isMapping(record) && typeof record.service === 'string' && typeof record.environment === 'string'
      ? ` (${enrollmentKey({ service: record.service, environment: record.environment })})`
      : '';
  return `record ${index + 1}${known}`;
}

/** One plain sentence per broken field (the first issue of each), e.g. "accountId must be …". */
function describeIssues(issues: z.core.$ZodIssue[], record: unknown): string[] {
  const seen = new Set<string>();
  const sentences: string[] = [];
  for (const issue of issues) {
    const field = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    if (seen.has(field)) continue;
    seen.add(field);
    if (issue.code === 'unrecognized_keys') {
      sentences.push(issue.keys.map((k) => `unknown key "${k}"`).join(', '));
    } else if (issue.code === 'invalid_type' && field === '') {
      sentences.push('must be a mapping of service, environment, accountId…');
    } else if (issue.code === 'invalid_type') {
      const missing = issue.path.length === 1 && isMapping(record) && !(String(issue.path[0]) in record);
      sentences.push(
        missing
          ? `${field} is required`
          : `${field} must be ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}`,
      );
    } else {
      sentences.push(`${field} ${issue.message}`);
    }
  }
  return sentences;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};
