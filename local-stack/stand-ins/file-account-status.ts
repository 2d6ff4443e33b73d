import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AccountStatusEntry,
  InvalidAccountStatus,
  parseStatusEntry,
  statusWrites,
} from '../../functions/shared/domain/account-status';
import { accountIdSchema } from '../../functions/shared/domain/enrollment';
import type {
  AccountStatusListing,
  AccountStatusLog,
} from '../../functions/shared/ports/account-status/account-status';
import { parseJson, type Warn, warnOnStderr } from './damaged-files';
import { removeUnfinishedWrites, temporaryFile } from './unfinished-writes';

/**
 * Account status records as files: `<dataDir>/account-status/<accountId>/<encodeURIComponent(item)>.json`, one per
 * record. A write goes to a temporary file renamed over the record, so a reader (or a concurrent run) never sees
 * half a record, and two runs writing different records of one account never touch the same file; one a killed
 * run left is removed by the next write to its account (unfinished-writes.ts). A record that cannot be read back
 * is left out of listings with a warning: the next run of its account writes it again.
 */
export class FileAccountStatusLog implements AccountStatusLog {
  private readonly dir: string;
  private readonly warn: Warn;
  /** Account directories this log has written to, each cleared of dead writers' temporary files first. */
  private readonly opened = new Set<string>();

  /** `onWarning` is told of each record left out; standard error by default. */
  constructor(dataDir: string, options: { onWarning?: Warn } = {}) {
    this.dir = join(dataDir, 'account-status');
    this.warn = options.onWarning ?? warnOnStderr;
  }

  async record(entries: AccountStatusEntry[]): Promise<void> {
    for (const { accountId, item, entry } of statusWrites(entries)) {
      const accountDir = join(this.dir, accountId);
      if (!this.opened.has(accountDir)) {
        await mkdir(accountDir, { recursive: true, mode: 0o700 });
        removeUnfinishedWrites(accountDir);
        this.opened.add(accountDir);
      }
      const file = `${encodeURIComponent(item)}.json`;
      const temporary = temporaryFile(accountDir, file);
      await writeFile(temporary, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      await rename(temporary, join(accountDir, file));
    }
  }

  async list({ accountId, onProgress }: AccountStatusListing = {}): Promise<AccountStatusEntry[]> {
    // An account id is twelve digits: anything else names no directory of ours.
    if (accountId !== undefined && !accountIdSchema.safeParse(accountId).success) return [];
    const accounts = accountId === undefined ? await entriesOf(this.dir) : [accountId];
    const entries: AccountStatusEntry[] = [];
    for (const account of accounts) {
      const accountDir = join(this.dir, account);
      for (const name of await entriesOf(accountDir)) {
        if (!name.endsWith('.json')) continue;
        const entry = await this.read(join(accountDir, name));
        if (entry) entries.push(entry);
      }
      onProgress?.(entries.length);
    }
    return entries;
  }

  private async read(file: string): Promise<AccountStatusEntry | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      // Replaced or removed since the directory was listed: nothing to show.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const json = parseJson(text);
    let problem = `${file} is ${'problem' in json ? json.problem : ''}`;
    if ('value' in json) {
      try {
        return parseStatusEntry(json.value, file);
      } catch (error) {
        if (!(error instanceof InvalidAccountStatus)) throw error;
        problem = error.message;
      }
    }
    this.warn(
      `left out of the account status: ${problem}. The account's next run writes it again; delete the file ` +
        'to silence this warning',
    );
    return undefined;
  }
}

/** A directory's names; none when it does not exist (nothing recorded yet). */
const entriesOf = async (dir: string): Promise<string[]> => {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
};
