import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { main } from '../../cli/main';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';
import { capturePrinted } from '../support/printed';

/** The operator's command line on the embedded default, run in-process over a copy of the samples. */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SAMPLES = join(ROOT, 'samples/keywhiz');
const PAYMENTS = '111122223333';
const LEDGER = '777788889999';
const SAMPLE_SECRETS = [
  [PAYMENTS, 'payments', 'Database_Password'],
  [PAYMENTS, 'payments', 'General_Password..0be68f903f8b7d86'],
  [PAYMENTS, 'payments', 'stripe-api-key'],
  [LEDGER, 'ledger', 'ledger.pgpass'],
  [LEDGER, 'ledger', 'signing-key.der'],
] as const;

let root: string;
let dataDir: string;
let keywhizDir: string;
const printed = capturePrinted();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trust-bridge-cli-'));
  dataDir = join(root, 'data');
  keywhizDir = join(root, 'keywhiz');
  await cp(SAMPLES, keywhizDir, { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const output = () => printed.join('\n').split('\n');

/** The rows of every table printed with these headers, as cells cut at the dashed line's columns. */
const tableRows = (firstHeader: string, secondHeader: string): string[][] => {
  const lines = output();
  const rows: string[][] = [];
  lines.forEach((line, i) => {
    if (!new RegExp(`^${firstHeader}\\s+${secondHeader}\\s`).test(line)) return;
    const columns = [...(lines[i + 1] ?? '').matchAll(/-+/g)].map((m) => m.index);
    for (const row of lines.slice(i + 2)) {
      if (row.trim() === '') break;
      rows.push(columns.map((start, c) => row.slice(start, columns[c + 1]).trim()));
    }
  });
  return rows;
};
/** The sync table's STATUS for (account, service, Keywhiz name); '' names an account's unchanged count. */
const syncStatus = (account: string, service: string, keywhizName: string) =>
  syncRow(account, service, keywhizName)?.[4];
const syncRow = (account: string, service: string, keywhizName: string) =>
  tableRows('ACCOUNT', 'SERVICE').find((r) => r[0] === account && r[1] === service && r[2] === keywhizName);
const secretName = (service: string, keywhizName: string) =>
  `trust-bridge/keywhiz/prod/${service}/${keywhizName}`;
const storedValue = async (account: string, name: string) => {
  const store = new LocalSecretsManager({ dataDir, accountId: account });
  const value = (await store.send(new GetSecretValueCommand({ SecretId: name }))) as {
    SecretString?: string;
  };
  return value.SecretString;
};
const dirs = () => ['--data-dir', dataDir, '--keywhiz-dir', keywhizDir];

/** Polls until the predicate holds; the serve test waits on what the command prints. */
const until = async (what: string, predicate: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; printed:\n${printed.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('trust-bridge sync before any rotation', () => {
  it('fails each agent with SvidUnavailable, prints the replay and says to rotate first', async () => {
    const fresh = join(root, 'fresh');
    expect(await main(['sync', '--data-dir', fresh, '--keywhiz-dir', keywhizDir])).toBe(1);
    expect(syncStatus(PAYMENTS, 'payments', '')).toMatch(/^FAILED: SvidUnavailable: /);
    expect(syncStatus(LEDGER, 'ledger', '')).toMatch(/^FAILED: SvidUnavailable: /);
    const failedRun = /^sync (\S+): FAILED /.exec(output().find((l) => l.startsWith('sync ')) ?? '')?.[1];
    expect(output()).toContain(`replay the failed accounts: trust-bridge replay ${failedRun}`);
    expect(output()).toContain(
      'an agent has no SVID yet: run `trust-bridge rotate --once` first, then sync again',
    );

    // The printed command, once the SVIDs exist, syncs exactly the failed accounts.
    expect(await main(['rotate', '--once', '--data-dir', fresh])).toBe(0);
    printed.length = 0;
    const replayed = [
      'replay',
      String(failedRun),
      '--data-dir',
      fresh,
      '--keywhiz-dir',
      keywhizDir,
      '--json',
    ];
    expect(await main(replayed)).toBe(0);
    expect(JSON.parse(printed.join('\n'))).toEqual([
      expect.objectContaining({
        action: 'replay',
        execution: `${failedRun}-replay`,
        items: 2,
        status: 'SUCCEEDED',
      }),
    ]);
  });

  it('help lists every command', async () => {
    expect(await main(['help'])).toBe(0);
    const listed = output()
      .filter((l) => /^ {2}\w+ {2,}/.test(l))
      .map((l) => l.trim().split(' ')[0]);
    const commands = [
      'start',
      'rotate',
      'sync',
      'notify',
      'executions',
      'replay',
      'status',
      'verify',
      'cost',
    ];
    expect(listed).toEqual(commands);
    for (const command of commands) {
      expect(output().some((l) => l.startsWith(`trust-bridge ${command} `))).toBe(true);
    }
    // start and rotate both take --once.
    const usageOf = (command: string) => {
      const lines = output();
      const from = lines.findIndex((l) => l.startsWith(`trust-bridge ${command} `));
      const to = lines.findIndex((l, i) => i > from && l.startsWith('trust-bridge '));
      return lines.slice(from, to);
    };
    expect(usageOf('start').some((l) => /^ {2}--once {2,}\S/.test(l))).toBe(true);
    expect(usageOf('rotate').some((l) => /^ {2}--once {2,}\S/.test(l))).toBe(true);
    // Every --aws command says where it reads the deployment from.
    for (const command of ['notify', 'executions', 'replay', 'status', 'verify']) {
      expect(usageOf(command).some((l) => /^ {2}--stack NAME {2,}with --aws/.test(l))).toBe(true);
    }
  });

  it('refuses bad options with what was wrong, starting nothing', async () => {
    const untouched = join(root, 'untouched');
    expect(await main(['sync', '--data-dir', untouched, '--account', '12', '--service', 'a b'])).toBe(2);
    expect(output()).toContain('--account "12": must be a 12-digit AWS account id');
    expect(output()).toContain('--service "a b": may hold only letters, digits, ".", "-" and "_"');
    expect(await main(['start', '--data-dir', untouched, '--sync-every', '5x'])).toBe(2);
    expect(output()).toContain('--sync-every "5x": must be a duration like 30s, 5m or 1h');
    expect(output()).toContain('--sync-every needs --serve');
    expect(await main(['start', '--data-dir', untouched, '--once', '--serve'])).toBe(2);
    expect(output()).toContain('--once and --serve: give one (--once runs once and exits)');
    await expect(rm(untouched)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('trust-bridge start, sync and start --serve on one data dir', () => {
  it('start rotates, syncs every sample secret into its account, prints both tables and exits 0', async () => {
    expect(await main(['start', ...dirs()])).toBe(0);
    const rotation = tableRows('ACCOUNT', 'SPIFFE ID');
    expect(rotation.map((r) => [r[0], r[4]])).toEqual(
      ['012345678901', PAYMENTS, '444455556666', LEDGER].map((account) => [account, 'issued']),
    );
    expect(output().some((l) => /^rotation \S+: SUCCEEDED in \d+\.\d s \(4 issued, 0 skipped/.test(l))).toBe(
      true,
    );
    for (const [account, service, name] of SAMPLE_SECRETS) {
      expect(syncRow(account, service, name)).toEqual([
        account,
        service,
        name,
        secretName(service, name),
        'synced',
      ]);
    }
    expect(output().some((l) => /^sync \S+: SUCCEEDED in \d+\.\d s \(5 synced, 0 unchanged/.test(l))).toBe(
      true,
    );
    expect(await storedValue(PAYMENTS, secretName('payments', 'stripe-api-key'))).toBe(
      'sk_test_FAKE_0000000000000000000000000000',
    );
  });

  it('a second start (npm start -- --once, as rotate --once) renews nothing and finds every secret unchanged', async () => {
    // `npm start -- --once` runs this command line.
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.start).toBe('node bin/trust-bridge.js start');
    expect(await main(['start', '--once', ...dirs()])).toBe(0);
    expect(output().some((l) => /^rotation \S+: SUCCEEDED .*\(0 issued, 4 skipped/.test(l))).toBe(true);
    expect(syncStatus(PAYMENTS, 'payments', '')).toBe('unchanged (3)');
    expect(syncStatus(LEDGER, 'ledger', '')).toBe('unchanged (2)');
    expect(output().some((l) => /^sync \S+: SUCCEEDED .*\(0 synced, 5 unchanged/.test(l))).toBe(true);
  });

  it('executions, status and verify read what those runs left in the data dir', async () => {
    expect(await main(['executions', '--data-dir', dataDir, '--json'])).toBe(0);
    const runs = JSON.parse(printed.join('\n')) as { machine: string; status: string }[];
    expect(runs.map((r) => [r.machine, r.status])).toEqual([
      ['sync-secrets', 'SUCCEEDED'],
      ['rotate-svids', 'SUCCEEDED'],
      ['sync-secrets', 'SUCCEEDED'],
      ['rotate-svids', 'SUCCEEDED'],
    ]);
    printed.length = 0;
    expect(await main(['status', '--data-dir', dataDir])).toBe(0);
    const status = tableRows('ACCOUNT', 'SPIFFE ID');
    expect(status.map((r) => [r[0], r[6]])).toEqual([
      ['012345678901', '-'],
      [PAYMENTS, '3'],
      ['444455556666', '-'],
      [LEDGER, '2'],
    ]);
    expect(await main(['verify', '--account', LEDGER, '--data-dir', dataDir])).toBe(0);
    expect(output()).toContain('1 of 1 SVIDs pass every check');
    expect(await main(['replay', '--failed', '--data-dir', dataDir, ...dirs().slice(2)])).toBe(0);
    expect(output().some((l) => l.startsWith('no failed executions since'))).toBe(true);
  });

  it('sync --secret after an edit syncs only that secret', async () => {
    await writeFile(join(keywhizDir, 'payments', 'Database_Password'), 'rotated-by-the-test');
    expect(await main(['sync', '--secret', 'Database_Password', ...dirs()])).toBe(0);
    expect(syncStatus(PAYMENTS, 'payments', 'Database_Password')).toBe('synced');
    for (const [account, service, name] of SAMPLE_SECRETS.filter(([, , n]) => n !== 'Database_Password')) {
      expect(syncRow(account, service, name)).toBeUndefined();
    }
    expect(output().some((l) => /^sync \S+: SUCCEEDED .*\(1 synced, /.test(l))).toBe(true);
    expect(await storedValue(PAYMENTS, secretName('payments', 'Database_Password'))).toBe(
      'rotated-by-the-test',
    );
  });

  it('start --serve: an edit and trust-bridge notify put the new value in the store; SIGINT stops it', async () => {
    const sigintListeners = process.listenerCount('SIGINT');
    const serving = main(['start', '--serve', '--port', '0', ...dirs()]);
    const receiver = () => output().find((l) => l.startsWith('webhook receiver: '));
    const receiverUrl = () => receiver()?.slice('webhook receiver: '.length) ?? '';
    const webhookSync = () => output().find((l) => l.startsWith('webhook sync of "stripe-api-key"'));
    let code: number;
    try {
      await until('the receiver', () => receiver() !== undefined);
      const url = receiverUrl();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(output()).toContain(
        `edit a file under ${keywhizDir}/<service>/ then run: npx trust-bridge notify --secret NAME --url ${url} --data-dir ${dataDir}`,
      );
      await writeFile(join(keywhizDir, 'payments', 'stripe-api-key'), 'sk_test_NEW_by_webhook');
      expect(await main(['notify', '--secret', 'stripe-api-key', '--url', url, '--data-dir', dataDir])).toBe(
        0,
      );
      await until('the webhook sync', () => webhookSync() !== undefined);
      expect(webhookSync()).toMatch(
        /: SUCCEEDED in \d+\.\d s \(1 synced, 0 unchanged, 0 deleted, 0 restored, 0 refused, 0 failed\)$/,
      );
      expect(await storedValue(PAYMENTS, secretName('payments', 'stripe-api-key'))).toBe(
        'sk_test_NEW_by_webhook',
      );
    } finally {
      // What Ctrl-C does: the command's own listener stops it (nothing else hears an emitted signal).
      process.emit('SIGINT', 'SIGINT');
      code = await serving;
    }
    expect(code).toBe(0);
    expect(output()).toContain('SIGINT: stopping');
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
    // The receiver is closed: nothing answers on its port any more.
    await expect(fetch(receiverUrl(), { method: 'POST' })).rejects.toThrow();
  });
});
