import { parseArgs } from 'node:util';
import { type FailureEntry, statusIndex } from '../functions/shared/domain/account-status';
import { formatDuration } from '../functions/shared/domain/duration';
import { NEAR_EXPIRY_MS } from '../functions/shared/domain/svid-expiry';
import type { StoredSvid } from '../functions/shared/domain/svid-secret';
import { formatAgo } from './durations';
import { type OpsCommandOptions, OPS_OPTIONS, OPS_OPTIONS_USAGE, openOpsStores } from './ops-options';
import { progress } from './progress';
import { printListing } from './table';

export const STATUS_USAGE = `trust-bridge status [options]
  One row per stored SVID: account, SPIFFE ID, serial, time to expiry, last rotation, last sync, synced
  secret count (after the last full reconcile) and last failure. An SVID that has expired or expires
  within 6 h is marked "!" (in --json: "expiresSoon": true).
  Exits 1 when any SVID is so marked (so a cron job or a check can alert on it), 0 otherwise.

  --account ID         only this account's SVIDs
${OPS_OPTIONS_USAGE}`;

/** One row of `trust-bridge status` (and one record of its --json). */
export interface SvidStatus extends Omit<StoredSvid, 'arn' | 'deletedAt' | 'readersDigest' | 'committed'> {
  expiresInSeconds: number;
  expired: boolean;
  /** Expired, or expires within 6 h. */
  expiresSoon: boolean;
  lastRotation: { at: string; runId: string } | null;
  lastSync: { at: string; runId: string } | null;
  /** The secrets the account held for the service after its last full reconcile. */
  syncedSecrets: number | null;
  lastFailure: Omit<FailureEntry, 'kind' | 'accountId' | 'service' | 'environment'> | null;
}

/** `trust-bridge status`: one row per stored SVID, joined with what the last runs recorded for it. */
export const statusCommand = async (
  argv: string[],
  print: (line: string) => void = console.log,
  options: OpsCommandOptions = {},
): Promise<number> => {
  const error = options.error ?? console.error;
  const { values } = parseArgs({
    args: argv,
    options: { ...OPS_OPTIONS, account: { type: 'string' } },
    strict: true,
  });
  const opened = await openOpsStores(values, { usage: STATUS_USAGE, accountRequired: false }, options);
  if ('exitCode' in opened) return opened.exitCode;
  const { stores, account } = opened;
  const now = (options.now ?? (() => new Date()))();

  const shown = progress('reading account status');
  const [svids, entries] = await Promise.all([
    stores.svids.listOwned(),
    stores.accountStatus.list({
      ...(account !== undefined ? { accountId: account } : {}),
      onProgress: (read) => shown.update(read),
    }),
  ]);
  shown.done();
  const statusOf = statusIndex(entries);
  const rows = svids
    .filter((s) => s.deletedAt === undefined && (account === undefined || s.accountId === account))
    .map((s) => svidStatus(s, statusOf(s.accountId, s.environment, s.service), now))
    .sort((a, b) => a.accountId.localeCompare(b.accountId) || a.spiffeId.localeCompare(b.spiffeId));
  if (account !== undefined && rows.length === 0) {
    error(
      `account ${account} has no SVID in ${stores.where}: not enrolled with identity, or not rotated yet`,
    );
    return 1;
  }

  printListing(
    rows,
    {
      json: values.json,
      headers: [
        'ACCOUNT',
        'SPIFFE ID',
        'SERIAL',
        'EXPIRES IN',
        'LAST ROTATION',
        'LAST SYNC',
        'SECRETS',
        'LAST FAILURE',
      ],
      cells: (r) => [
        r.accountId,
        r.spiffeId,
        r.serial,
        `${r.expiresSoon ? '! ' : ''}${r.expired ? 'expired' : formatDuration(r.expiresInSeconds * 1000)}`,
        ago(r.lastRotation?.at, now),
        ago(r.lastSync?.at, now),
        r.syncedSecrets === null ? '-' : String(r.syncedSecrets),
        r.lastFailure
          ? `${r.lastFailure.error} ${ago(r.lastFailure.at, now)}: ${cut(r.lastFailure.message)}`
          : '-',
      ],
      empty: `no SVIDs in ${stores.where} yet: run a rotation first`,
    },
    print,
  );
  const soon = rows.filter((r) => r.expiresSoon).length;
  if (!values.json && rows.length > 0) {
    print(
      soon > 0
        ? `\n! ${soon} of ${rows.length} SVIDs expired or expire within 6 h: check the last failure and the rotation runs`
        : `\n${rows.length} SVIDs, none expiring within 6 h`,
    );
  }
  return soon > 0 ? 1 : 0;
};

const svidStatus = (
  svid: StoredSvid,
  status: ReturnType<ReturnType<typeof statusIndex>>,
  now: Date,
): SvidStatus => {
  const left = Date.parse(svid.notAfter) - now.getTime();
  // A tag that is not a date is as bad as an expired SVID: nothing says it is valid.
  const expired = !(left > 0);
  const failure = status.lastFailure;
  return {
    accountId: svid.accountId,
    service: svid.service,
    environment: svid.environment,
    spiffeId: svid.spiffeId,
    secretName: svid.secretName,
    serial: svid.serial,
    notAfter: svid.notAfter,
    expiresInSeconds: expired ? 0 : Math.floor(left / 1000),
    expired,
    expiresSoon: expired || left <= NEAR_EXPIRY_MS,
    lastRotation: status.lastRotation
      ? { at: status.lastRotation.at, runId: status.lastRotation.runId }
      : null,
    lastSync: status.lastSync ? { at: status.lastSync.at, runId: status.lastSync.runId } : null,
    syncedSecrets: status.lastReconcile?.secretCount ?? null,
    lastFailure: failure
      ? {
          at: failure.at,
          runId: failure.runId,
          run: failure.run,
          error: failure.error,
          message: failure.message,
        }
      : null,
  };
};

const ago = (at: string | undefined, now: Date): string => {
  if (at === undefined) return '-';
  return formatAgo(now.getTime() - Date.parse(at));
};

/** A table cell stays readable; --json has the whole message. */
const cut = (message: string, max = 60) => (message.length > max ? `${message.slice(0, max)}…` : message);
