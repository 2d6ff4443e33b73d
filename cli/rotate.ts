import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readAuditLog } from '../functions/shared/local/local-event-bus';
import { createLocalStack, type LocalStack } from '../local-stack/stack';
import { renderTable } from './table';

export const DEFAULT_ENROLLMENTS = fileURLToPath(new URL('../samples/enrollments.yaml', import.meta.url));
export const DEFAULT_DATA_DIR = '.trust-bridge';
const TWELVE_HOURS_MS = 12 * 3_600_000;

export const ROTATE_USAGE = `trust-bridge rotate [options]
  Runs the rotate-svids state machine on the embedded default (local engine, software CA,
  directory-backed Secrets Manager, local audit bus).

  --enrollments FILE   enrollment registry, YAML or JSON (default: samples/enrollments.yaml)
  --data-dir DIR       where the local CA, secrets and audit log live (default: .trust-bridge)
  --once               run one rotation and exit (default: rotate now, then every 12 h until Ctrl-C)
  --force              renew even SVIDs that are not yet inside the renewal window
  --account ID         rotate only this account (repeatable); a replay passes the failed accounts`;

/** `trust-bridge rotate`: one run, or a run every 12 hours, printing what each run did per account. */
export const rotateCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      enrollments: { type: 'string', default: DEFAULT_ENROLLMENTS },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      once: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      account: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const stack = await createLocalStack({
    dataDir: values['data-dir'],
    enrollmentsPath: values.enrollments,
    env: envOf(process.env),
    realDelays: !values.once,
  });
  const request = { force: values.force, ...(values.account ? { accounts: values.account } : {}) };
  if (values.once) return runOnce(stack, request, values['data-dir']);

  let status = await runOnce(stack, request, values['data-dir']);
  const timer = setInterval(async () => {
    status = await runOnce(stack, {}, values['data-dir']);
  }, TWELVE_HOURS_MS);
  console.log('next rotation in 12 h; Ctrl-C stops');
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  clearInterval(timer);
  return status;
};

const runOnce = async (stack: LocalStack, request: object, dataDir: string): Promise<number> => {
  const started = Date.now();
  const execution = await stack.rotate(request);
  const runId = execution.name;
  const events = (await readAuditLog(dataDir, stack.config.AUDIT_BUS_NAME)).filter(
    (e) => (e.detail as { runId?: string }).runId === runId,
  );
  const rows = events.map((e) => {
    const d = e.detail as Record<string, string | undefined>;
    return [
      d.accountId ?? '',
      d.spiffeId ?? '',
      d.serial ?? '',
      d.notAfter ?? '',
      statusOf(e['detail-type'], d),
    ];
  });
  rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '') || (a[1] ?? '').localeCompare(b[1] ?? ''));
  console.log(renderTable(['ACCOUNT', 'SPIFFE ID', 'SERIAL', 'NOT AFTER', 'STATUS'], rows));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\nrotation ${runId}: ${execution.status} in ${seconds} s`);
  if (execution.status === 'SUCCEEDED') return 0;
  console.log(`${execution.error ?? 'failed'}: ${execution.cause ?? ''}`);
  const replay = parseReplay(execution.cause);
  if (replay) {
    console.log(
      `replay the failed accounts: trust-bridge rotate --once ${replay.map((a) => `--account ${a}`).join(' ')}`,
    );
  }
  return 1;
};

const statusOf = (detailType: string, d: Record<string, string | undefined>): string => {
  if (detailType === 'SVID Issued') return 'issued';
  if (detailType === 'SVID Renewal Skipped') return 'skipped (fresh)';
  if (detailType === 'SVID Deleted') return `deleted (${d.reason})`;
  return `FAILED: ${d.error}: ${d.message}`;
};

const parseReplay = (cause: string | undefined): string[] | undefined => {
  try {
    const parsed = JSON.parse(cause ?? '') as { accounts?: unknown };
    return Array.isArray(parsed.accounts) ? parsed.accounts.map(String) : undefined;
  } catch {
    return undefined;
  }
};

/** Only string values: the configuration schema reads what it knows and ignores the rest. */
const envOf = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
