import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SVID_DETAIL_TYPES } from '../functions/shared/domain/audit';
import { createLocalStack, type LocalStack } from '../local-stack/stack';
import { printRunReport, type RunRow, runAuditEvents } from './table';

export const DEFAULT_ENROLLMENTS = fileURLToPath(new URL('../samples/enrollments.yaml', import.meta.url));
export const DEFAULT_DATA_DIR = '.trust-bridge';
const TWELVE_HOURS_MS = 12 * 3_600_000;

/** The options of every command that runs the local stack. */
export const STACK_OPTIONS = {
  enrollments: { type: 'string', default: DEFAULT_ENROLLMENTS },
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
} as const;

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
      ...STACK_OPTIONS,
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
  if (values.once) return rotateAndReport(stack, request, values['data-dir']);

  let status = await rotateAndReport(stack, request, values['data-dir']);
  const timer = setInterval(async () => {
    status = await rotateAndReport(stack, {}, values['data-dir']);
  }, TWELVE_HOURS_MS);
  console.log('next rotation in 12 h; Ctrl-C stops');
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  clearInterval(timer);
  return status;
};

/** Runs one rotation and prints its table and summary (and the replay command when accounts failed). */
export const rotateAndReport = async (
  stack: LocalStack,
  request: object,
  dataDir: string,
  print: (line: string) => void = console.log,
): Promise<number> => {
  const started = Date.now();
  const execution = await stack.rotate(request);
  const events = await runAuditEvents(dataDir, stack.config.AUDIT_BUS_NAME, execution.name);
  return printRunReport(
    {
      kind: 'rotation',
      execution,
      headers: ['ACCOUNT', 'SPIFFE ID', 'SERIAL', 'NOT AFTER', 'STATUS'],
      rows: events.map((e) => rotationRow(e['detail-type'], e.detail as Record<string, string | undefined>)),
      outcomes: ['issued', 'skipped', 'deleted', 'failed'],
      seconds: (Date.now() - started) / 1000,
    },
    print,
  );
};

const rotationRow = (detailType: string, d: Record<string, string | undefined>): RunRow => {
  const [outcome, status] = statusOf(detailType, d);
  return { cells: [d.accountId ?? '', d.spiffeId ?? '', d.serial ?? '', d.notAfter ?? '', status], outcome };
};

const statusOf = (detailType: string, d: Record<string, string | undefined>): [string, string] => {
  if (detailType === SVID_DETAIL_TYPES.issued) return ['issued', 'issued'];
  if (detailType === SVID_DETAIL_TYPES.skipped) return ['skipped', 'skipped (fresh)'];
  if (detailType === SVID_DETAIL_TYPES.deleted) return ['deleted', `deleted (${d.reason})`];
  return ['failed', `FAILED: ${d.error}: ${d.message}`];
};

/** Only string values: the configuration schema reads what it knows and ignores the rest. */
export const envOf = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
