/**
 * What one secret's file holds, `<dataDir>/secretsmanager/<accountId>/<encodeURIComponent(name)>.json`, and how
 * a file that holds something else is refused.
 */
import * as z from '../../../functions/shared/domain/zod';
import { parseJson } from '../damaged-files';

const storedVersionSchema = z.object({
  versionId: z.string(),
  stages: z.array(z.string()),
  createdAt: z.string(),
  SecretString: z.optional(z.string()),
  /** Base64. */
  SecretBinary: z.optional(z.string()),
});
export type StoredSecretVersion = z.infer<typeof storedVersionSchema>;

const storedSecretSchema = z.object({
  name: z.string(),
  arn: z.string(),
  description: z.optional(z.string()),
  kmsKeyId: z.optional(z.string()),
  tags: z.array(z.object({ Key: z.string(), Value: z.string() })),
  resourcePolicy: z.optional(z.string()),
  createdDate: z.string(),
  lastChangedDate: z.string(),
  /** When deletion was requested; the secret answers InvalidRequestException until restored. */
  deletedDate: z.optional(z.string()),
  /** When a secret scheduled for deletion is purged for good (deletedDate + recovery window). */
  deletionDate: z.optional(z.string()),
  versions: z.array(storedVersionSchema),
});
export type StoredSecret = z.infer<typeof storedSecretSchema>;

/**
 * A secret's file that does not hold that secret (cut short, edited by hand): every call on that secret fails
 * with this, naming the file, while the other secrets answer as usual. Not an AWS error: AWS has no such state.
 */
export class DamagedSecretFile extends Error {
  override readonly name = 'DamagedSecretFile';
}

/** The secret `name` as its file holds it; DamagedSecretFile, naming the file, for anything else. */
export function parseStoredSecret(text: string, path: string, name: string): StoredSecret {
  const damaged = (problem: string) =>
    new DamagedSecretFile(
      `${path} is damaged: ${problem}. Restore it from a backup, or delete it and the next run creates ${name} again`,
    );
  const json = parseJson(text);
  if ('problem' in json) throw damaged(json.problem);
  const parsed = storedSecretSchema.safeParse(json.value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'the record'))];
    throw damaged(`not a stored secret (wrong or missing: ${fields.join(', ')})`);
  }
  if (parsed.data.name !== name) throw damaged(`it holds secret ${parsed.data.name}`);
  return parsed.data;
}
