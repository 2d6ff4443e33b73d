import type { AccountStatusLog } from '../../functions/shared/ports/account-status/account-status';
import type { SvidStore } from '../../functions/shared/ports/svid-store/svid-store';
import type { RunStatus, WorkflowRuns } from '../runs/workflow-runs';

/** What status and verify read: the central SVID store and the per-account status records. */
export interface OpsStores {
  svids: Pick<SvidStore, 'listOwned' | 'read' | 'policy'>;
  accountStatus: Pick<AccountStatusLog, 'list'>;
  /** The trust domain SVIDs are issued in: the deployed stack's (asked only by verify), or TRUST_DOMAIN. */
  trustDomain: () => Promise<string>;
  /** Where they are, for messages. */
  where: string;
}

/**
 * Where an operator command reads and acts: the embedded default under a data directory, or a stack deployed on
 * AWS. A command opens one from its flags (openDeployment) and asks it for what it needs; nothing is opened before
 * it is asked for, so a command that only reads never holds the data directory.
 */
export interface Deployment {
  /** The workflows' executions, and what an operator may do with them. */
  readonly runs: WorkflowRuns;
  /**
   * The statuses of a run that failed: FAILED, and locally ABORTED too (its process died; on AWS an ABORTED run
   * was stopped on purpose).
   */
  readonly failedStatuses: readonly RunStatus[];
  /** The data directory that records the runs, named when none is found; on AWS there is none to name. */
  readonly runsRecordedIn: string | undefined;
  /**
   * Checks, before anything is started, that runs can be started and announced: locally it takes the data
   * directory (refused when another process writes it, or it was made with another registry), on AWS it finds
   * the audit bus. Gives the exit code when they cannot, having said why.
   */
  readyToChange(): Promise<{ exitCode: number } | undefined>;
  /** The central SVID store and the account status records; rejects when there are none to read. */
  stores(): Promise<OpsStores>;
  /** The webhook receiver's URL. */
  webhookUrl(): Promise<string>;
  /** The key a webhook delivery is signed with: the receiver's current one. */
  webhookKey(): Promise<Uint8Array>;
  /** Gives up what was opened (locally, the data directory). */
  close(): Promise<void>;
}
