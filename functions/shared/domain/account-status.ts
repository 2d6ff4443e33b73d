import * as z from './zod';
import { accountIdSchema } from './enrollment';
import { TrustBridgeError } from './errors';

/**
 * What the report steps record per account and service, for `trust-bridge status`: the last issuance, the last
 * sync, the secret count of the last full reconcile, and the last failure. Names, serials, dates and counts only.
 * Each kind is its own record, so a rotation and a sync write side by side without reading each other's.
 */
const base = {
  accountId: accountIdSchema,
  /** ISO-8601: when the report step recorded it. */
  at: z.iso.datetime(),
  runId: z.string().check(z.minLength(1)),
};
const subject = { service: z.string().check(z.minLength(1)), environment: z.string().check(z.minLength(1)) };

export const accountStatusEntrySchema = z.discriminatedUnion('kind', [
  /** An SVID issued. */
  z.strictObject({
    kind: z.literal('rotation'),
    ...base,
    ...subject,
    serial: z.string().check(z.minLength(1)),
    notAfter: z.iso.datetime(),
  }),
  /** An agent that finished, a full reconcile or one secret. */
  z.strictObject({ kind: z.literal('sync'), ...base, ...subject }),
  /** A full reconcile that finished: the secrets the account now holds for the service. */
  z.strictObject({
    kind: z.literal('reconcile'),
    ...base,
    ...subject,
    secretCount: z.number().check(z.int(), z.minimum(0)),
  }),
  /** A failure of one service, or of the whole account (a chunk that could not load) without a service. */
  z.strictObject({
    kind: z.literal('failure'),
    ...base,
    service: z.optional(subject.service),
    environment: z.optional(subject.environment),
    run: z.enum(['rotation', 'sync']),
    error: z.string().check(z.minLength(1)),
    message: z.string(),
  }),
]);

export type AccountStatusEntry = z.infer<typeof accountStatusEntrySchema>;
export type FailureEntry = Extract<AccountStatusEntry, { kind: 'failure' }>;

/** A failure's message is what an operator reads in a table: bounded, like the step errors themselves. */
export const MAX_STATUS_MESSAGE = 300;

export const boundedMessage = (message: string): string =>
  message.length > MAX_STATUS_MESSAGE ? `${message.slice(0, MAX_STATUS_MESSAGE)}…` : message;

/** The record's key inside its account: one record per kind and (environment, service); the account's own without. */
export const statusItemKey = (entry: AccountStatusEntry): string =>
  entry.service === undefined ? entry.kind : `${entry.kind}#${entry.environment}/${entry.service}`;

/** The status could not be written (after the adapter's own retries). */
export class AccountStatusNotRecorded extends TrustBridgeError {}

/** A status entry or stored record that is not one the report steps write. */
export class InvalidAccountStatus extends TrustBridgeError {}

/** A record as the report steps write it, or InvalidAccountStatus naming what is wrong. */
export const parseStatusEntry = (raw: unknown, where: string): AccountStatusEntry => {
  const parsed = accountStatusEntrySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');
  throw new InvalidAccountStatus(`${where} is not an account status record: ${problems}`);
};

/**
 * What one record call writes: every entry checked before anything is written, and of two entries with the
 * same key only the later (a batch may not name one item twice).
 */
export const statusWrites = (
  entries: AccountStatusEntry[],
): { accountId: string; item: string; entry: AccountStatusEntry }[] => {
  const writes = new Map<string, { accountId: string; item: string; entry: AccountStatusEntry }>();
  entries.forEach((raw, i) => {
    const entry = parseStatusEntry(raw, `status entry ${i}`);
    const item = statusItemKey(entry);
    writes.delete(`${entry.accountId} ${item}`);
    writes.set(`${entry.accountId} ${item}`, { accountId: entry.accountId, item, entry });
  });
  return [...writes.values()];
};

/** The status of one (account, environment, service), folded from its records. */
export interface ServiceStatus {
  lastRotation: Extract<AccountStatusEntry, { kind: 'rotation' }> | undefined;
  lastSync: Extract<AccountStatusEntry, { kind: 'sync' }> | undefined;
  lastReconcile: Extract<AccountStatusEntry, { kind: 'reconcile' }> | undefined;
  /** The later of the service's own failure and its account's. */
  lastFailure: FailureEntry | undefined;
}

/** Looks up each (account, environment, service) in the records, however many there are. */
export const statusIndex = (entries: AccountStatusEntry[]) => {
  const byKey = new Map(entries.map((e) => [`${e.accountId} ${statusItemKey(e)}`, e]));
  const find = <K extends AccountStatusEntry['kind']>(key: string) =>
    byKey.get(key) as Extract<AccountStatusEntry, { kind: K }> | undefined;
  return (accountId: string, environment: string, service: string): ServiceStatus => {
    const own = `${environment}/${service}`;
    const failures = [
      find<'failure'>(`${accountId} failure#${own}`),
      find<'failure'>(`${accountId} failure`),
    ].filter((f): f is FailureEntry => f !== undefined);
    return {
      lastRotation: find<'rotation'>(`${accountId} rotation#${own}`),
      lastSync: find<'sync'>(`${accountId} sync#${own}`),
      lastReconcile: find<'reconcile'>(`${accountId} reconcile#${own}`),
      lastFailure: failures.sort((a, b) => b.at.localeCompare(a.at))[0],
    };
  };
};
