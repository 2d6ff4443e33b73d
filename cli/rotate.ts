import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SVID_DETAIL_TYPES } from '../functions/shared/domain/audit';
import { DataDirInUse } from '../local-stack/data-dir-lock';
import { DataDirReconfigureRefused } from '../local-stack/data-dir-settings';
import { createLocalStack, type LocalStack, type LocalStackOptions } from '../local-stack/stack';
import { printRunReport, type RunRow, runAuditEvents } from './table';

export const DEFAULT_ENROLLMENTS = fileURLToPath(new URL('../samples/enrollments.yaml', import.meta.url));
export const DEFAULT_DATA_DIR = '.trust-bridge';
const TWELVE_HOURS_MS = 12 * 3_600_000;

/** The options of every command that runs the local stack (no default registry: the data directory's comes first). */
export const STACK_OPTIONS = {
  enrollments: { type: 'string' },
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
  reconfigure: { type: 'boolean', default: false },
} as const;

/** How the stack options read in every command's usage. */
export const STACK_OPTIONS_USAGE = `  --enrollments FILE   enrollment registry, YAML or JSON (default: the one the data directory was created with;
                       for a new one samples/enrollments.yaml)
  --data-dir DIR       where the local CA, secrets and audit log live (default: ${DEFAULT_DATA_DIR})
  --reconfigure        use the --enrollments (and --keywhiz-dir) given, though the data directory was created
                       with others, and remember them from now on`;

/**
 * Opens the local stack, or prints why not and gives the exit code: 2 when the data directory was created with
 * another registry or Keywhiz directory (a usage error), 1 when another process is writing it.
 */
export const openLocalStack = async (
  options: LocalStackOptions,
  usage: string,
): Promise<LocalStack | { exitCode: number }> => {
  try {
    return await createLocalStack({
      ...options,
      defaults: { enrollmentsPath: DEFAULT_ENROLLMENTS, ...options.defaults },
    });
  } catch (error) {
    if (error instanceof DataDirReconfigureRefused) {
      console.error(`${error.message}\n\n${usage}`);
      return { exitCode: 2 };
    }
    if (error instanceof DataDirInUse) {
      console.error(error.message);
      return { exitCode: 1 };
    }
    throw error;
  }
};

export const ROTATE_USAGE = `trust-bridge rotate [options]
  Runs the rotate-svids state machine on the embedded default (local engine, software CA,
  directory-backed Secrets Manager, local audit bus).

${STACK_OPTIONS_USAGE}
  --once               run one rotation and exit (default: rotate now, then every 12 h until Ctrl-C)
  --force              renew even SVIDs that are not yet inside the renewal window
  --allow-mass-retirement
                       retire even when the registry is empty or the plan retires more than
                       MAX_RETIREMENT_SHARE (default 10 %) of the SVIDs; otherwise such a run is refused
  --account ID         rotate only this account (repeatable); a replay passes the failed accounts`;

/** `trust-bridge rotate`: one run, or a run every 12 hours, printing what each run did per account. */
export const rotateCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...STACK_OPTIONS,
      once: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'allow-mass-retirement': { type: 'boolean', default: false },
      account: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const stack = await openLocalStack(
    {
      dataDir: values['data-dir'],
      enrollmentsPath: values.enrollments,
      reconfigure: values.reconfigure,
      env: envOf(process.env),
      realDelays: !values.once,
    },
    ROTATE_USAGE,
  );
  if ('exitCode' in stack) return stack.exitCode;
  try {
    const request = {
      force: values.force,
      ...(values.account ? { accounts: values.account } : {}),
      ...massRetirement(values['allow-mass-retirement']),
    };
    if (values.once) return await rotateAndReport(stack, request, values['data-dir']);

    let status = await rotateAndReport(stack, request, values['data-dir']);
    const timer = setInterval(async () => {
      status = await rotateAndReport(stack, {}, values['data-dir']);
    }, TWELVE_HOURS_MS);
    console.log('next rotation in 12 h; Ctrl-C stops');
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    clearInterval(timer);
    return status;
  } finally {
    // Gives the data directory up for the next command.
    await stack.close();
  }
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
      ms: Date.now() - started,
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
  if (detailType === SVID_DETAIL_TYPES.repaired) return ['skipped', `repaired (${String(d.repaired)})`];
  if (detailType === SVID_DETAIL_TYPES.deleted) return ['deleted', `deleted (${d.reason})`];
  if (detailType === SVID_DETAIL_TYPES.retirementRefused)
    return ['refused', `REFUSED (${d.reason}): would retire ${d.count} of ${d.stored} SVIDs`];
  return ['failed', `FAILED: ${d.error}: ${d.message}`];
};

/** The request field of --allow-mass-retirement: given only when asked for, so other runs' inputs stay as they were. */
export const massRetirement = (allow: boolean | undefined) => (allow ? { allowMassRetirement: true } : {});

/** Only string values: the configuration schema reads what it knows and ignores the rest. */
export const envOf = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
