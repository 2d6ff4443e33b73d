import { createHash } from 'node:crypto';
import * as z from './zod';
import { replayOfSchema, runFileSchema, type RunOutcome } from './replay';
import type { RunFile } from './run-files';
import { accountIdSchema } from './enrollment';
import type { StoredSvid, SvidListing } from './svid-secret';

/** Input of a rotation run: the schedule sends `{}`, an operator or a replay names accounts. */
export const rotationRequestSchema = z.strictObject({
  accounts: z.optional(z.array(accountIdSchema).check(z.minLength(1, 'must name at least one account'))),
  force: z._default(z.boolean(), false),
  replayOf: z.optional(replayOfSchema),
  /** A replay too long for an input: the failed run's kept replay input, whose accounts (and force) the run takes. */
  replayFrom: z.optional(runFileSchema),
  /** Lets the plan retire more than MAX_RETIREMENT_SHARE of the SVIDs, or retire from an empty registry. */
  allowMassRetirement: z._default(z.boolean(), false),
});
export type RotationRequest = z.infer<typeof rotationRequestSchema>;

/** A stored SVID to delete: its enrollment is gone or has identity turned off. */
export interface Retirement {
  action: 'retire';
  secretName: string;
  accountId: string;
  service: string;
  environment: string;
  spiffeId: string;
  reason: 'identity-disabled' | 'enrollment-removed';
}

/** An enrollment whose SVID is to be issued (or found fresh and skipped). */
export interface Issuance {
  action: 'issue';
  accountId: string;
  service: string;
  environment: string;
  readerRoles: string[];
  /**
   * The second from which the chunk's "Wait For Issuance Slot" lets this item call the CA (ISO 8601, whole
   * seconds): items are spread so the chunks running at once ask ACM PCA for ISSUANCE_RATE certificates a second.
   */
  notBefore: string;
  /** What the plan listed under its SVID's name (tags only, no secret). */
  listing?: SvidListing;
}

export type WorkItem = Issuance | Retirement;

/** One child execution's share of the run. `accounts` holds every account the chunk touches. */
export interface ChunkOrder {
  accounts: string[];
  retire: Retirement[];
  /** The SVIDs the plan listed under these accounts' enrollments' names: what their issuances start from. */
  listed: StoredSvid[];
}

/**
 * What 'Plan Rotation' gives the run: small facts only. The chunk orders, which grow with the fleet, are one JSON
 * array in the run's files, the items 'Rotate Each Chunk' (a Distributed Map) reads.
 */
export interface RotationPlan {
  runId: string;
  force: boolean;
  accountConcurrency: number;
  chunkConcurrency: number;
  /** The chunk orders (ChunkOrder[]), and how many. */
  chunks: RunFile & { count: number };
  /** Where the Map Run writes its results (the ResultWriter's bucket and prefix). */
  results: { bucket: string; prefix: string };
  /** Accounts the chunks touch. */
  accounts: number;
  /** Enrollments inside the renewal window, skipped without a CA call. */
  skipped: number;
}

/** The SVID an outcome is about. */
interface SvidOutcomeSubject {
  accountId: string;
  service: string;
  environment: string;
  spiffeId: string;
  secretName: string;
}

/** What happened to one work item. Names, serials and dates only. */
export type SvidOutcome =
  | (SvidOutcomeSubject & { status: 'issued' | 'skipped'; serial: string; notAfter: string })
  | (SvidOutcomeSubject & {
      /** Fresh, but its policy or tags were not (a write cut off, or readers changed): rewritten, no new certificate. */
      status: 'repaired';
      serial: string;
      notAfter: string;
      repaired: ('policy' | 'tags')[];
    })
  | (SvidOutcomeSubject & { status: 'deleted'; reason: Retirement['reason']; deletionDate: string })
  | {
      /** Written by the state machine's Catch: the item and the error as Step Functions reports it. */
      status: 'failed';
      item: WorkItem;
      error: { Error: string; Cause?: string };
    };

export interface ChunkSummary {
  issued: number;
  skipped: number;
  deleted: number;
  failed: number;
  failedAccounts: string[];
}

export type RotationSummary = Omit<ChunkSummary, 'failedAccounts'> & RunOutcome & { runId: string };

/** The SVID an enrollment holds, as the store's tags tell it. */
interface HeldSvid {
  spiffeId: string;
  accountId: string;
  notAfter: string;
  /** Set when the secret is scheduled for deletion. */
  deletedAt?: string;
}

/**
 * The renewal rule, for the plan and the issuing step alike: an enrollment needs a new SVID when forced, when the
 * one it holds is scheduled for deletion, names another SPIFFE ID, was issued for another account (that account's
 * readers may hold its key), or has `renewBeforeHours` or less left (an unreadable notAfter counts as none).
 */
export const needsNewSvid = (
  held: HeldSvid,
  wanted: { spiffeId: string; accountId: string },
  now: Date,
  { renewBeforeHours, force }: { renewBeforeHours: number; force: boolean },
): boolean => {
  if (force || held.deletedAt !== undefined) return true;
  if (held.spiffeId !== wanted.spiffeId || held.accountId !== wanted.accountId) return true;
  const expires = Date.parse(held.notAfter);
  return Number.isNaN(expires) || expires - now.getTime() <= renewBeforeHours * 3_600_000;
};

/**
 * The secret version id of one issuance: the same run and SPIFFE ID always give the same token, so a retried
 * step finds its own write instead of making a second version. UUID-shaped (36 chars), as Secrets Manager expects.
 */
export const issuanceToken = (runId: string, spiffeId: string): string => {
  const h = createHash('sha256').update(`${runId}\n${spiffeId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
