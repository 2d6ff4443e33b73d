import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SECRET_DETAIL_TYPES } from '../functions/shared/domain/audit';
import { type SyncRequest, syncRequestSchema } from '../functions/shared/domain/sync';
import type { AuditLogEntry } from '../local-stack/stand-ins/local-event-bus';
import type { LocalStack } from '../local-stack/stack';
import { envOf, openLocalStack, STACK_OPTIONS, STACK_OPTIONS_USAGE } from './rotate';
import { printRunReport, type RunRow, runAuditEvents } from './table';

export const DEFAULT_KEYWHIZ_DIR = fileURLToPath(new URL('../samples/keywhiz', import.meta.url));

/** The options of every command that runs the local stack with its Keywhiz dev server. */
export const SYNC_STACK_OPTIONS = {
  ...STACK_OPTIONS,
  'keywhiz-dir': { type: 'string' },
} as const;

/** What SYNC_STACK_OPTIONS parse to, as the local stack takes it (the data directory's files unless given). */
export const syncStackOptions = (values: {
  'data-dir': string;
  enrollments?: string | undefined;
  'keywhiz-dir'?: string | undefined;
  reconfigure: boolean;
}) => ({
  dataDir: values['data-dir'],
  enrollmentsPath: values.enrollments,
  keywhizDir: values['keywhiz-dir'],
  defaults: { keywhizDir: DEFAULT_KEYWHIZ_DIR },
  reconfigure: values.reconfigure,
  env: envOf(process.env),
});

export const KEYWHIZ_DIR_USAGE = `  --keywhiz-dir DIR    the Keywhiz secrets to serve, <dir>/<service>/<secret-name> (default: the data
                       directory's; for a new one samples/keywhiz)`;

export const SYNC_USAGE = `trust-bridge sync [options]
  Runs the sync-secrets state machine once on the embedded default: each secret-enabled account's agent
  fetches its service's secrets from the Keywhiz dev server (with its SVID) into the account's local store.
  Rotation is not run here: an agent without an SVID fails with SvidUnavailable (run rotate --once first).

${STACK_OPTIONS_USAGE}
${KEYWHIZ_DIR_USAGE}
  --secret NAME        sync only this Keywhiz secret (default: a full reconcile)
  --service S          only the accounts of this service (repeatable)
  --account ID         only this account (repeatable); a replay passes the failed accounts`;

/** `trust-bridge sync`: one run (full, targeted, or a replay of failed accounts), printing what it did. */
export const syncCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SYNC_STACK_OPTIONS,
      secret: { type: 'string' },
      service: { type: 'string', multiple: true },
      account: { type: 'string', multiple: true },
    },
    strict: true,
  });
  // The plan step would refuse a bad request too; checking first says what is wrong before anything starts.
  const request = {
    ...(values.secret !== undefined ? { secret: values.secret } : {}),
    ...(values.service ? { services: values.service } : {}),
    ...(values.account ? { accounts: values.account } : {}),
  };
  const parsed = syncRequestSchema.safeParse(request);
  if (!parsed.success) {
    console.error(
      `${parsed.error.issues.map((i) => `${badOption(request, i.path)}: ${i.message}`).join('\n')}\n\n${SYNC_USAGE}`,
    );
    return 2;
  }
  const stack = await openLocalStack(syncStackOptions(values), SYNC_USAGE);
  if ('exitCode' in stack) return stack.exitCode;
  try {
    return await syncAndReport(stack, parsed.data, values['data-dir']);
  } finally {
    await stack.close();
  }
};

const FLAG_OF: Record<string, string> = { secret: '--secret', services: '--service', accounts: '--account' };

/** Names the option and the value that was refused, e.g. `--account "12"`. */
const badOption = (request: Record<string, unknown>, path: PropertyKey[]): string => {
  const [field, index] = path.map(String);
  const given =
    index === undefined ? request[field ?? ''] : (request[field ?? ''] as unknown[])[Number(index)];
  return `${FLAG_OF[field ?? ''] ?? field} ${JSON.stringify(given)}`;
};

/** Runs one sync and prints its table and summary (and what to run next when accounts failed). */
export const syncAndReport = async (
  stack: LocalStack,
  request: SyncRequest,
  dataDir: string,
  print: (line: string) => void = console.log,
): Promise<number> => {
  const started = Date.now();
  const execution = await stack.sync(request);
  const events = await runAuditEvents(dataDir, stack.config.AUDIT_BUS_NAME, execution.name);
  const code = printRunReport(
    {
      kind: 'sync',
      execution,
      headers: ['ACCOUNT', 'SERVICE', 'KEYWHIZ NAME', 'SECRETS MANAGER NAME', 'STATUS'],
      rows: events.map(syncRow),
      outcomes: SYNC_OUTCOMES,
      ms: Date.now() - started,
    },
    print,
  );
  if (events.some((e) => (e.detail as { error?: string }).error === 'SvidUnavailable')) {
    print('an agent has no SVID yet: run `trust-bridge rotate --once` first, then sync again');
  }
  return code;
};

export const SYNC_OUTCOMES = ['synced', 'unchanged', 'deleted', 'restored', 'refused', 'failed'] as const;

const syncRow = (event: AuditLogEntry): RunRow => {
  const d = event.detail as Record<string, string | number | undefined>;
  const text = (key: string) => (d[key] === undefined ? '' : String(d[key]));
  const [outcome, status] = statusOf(event['detail-type'], text);
  return {
    cells: [text('accountId'), text('service'), text('keywhizName'), text('secretName'), status],
    outcome,
    ...(typeof d.count === 'number' ? { count: d.count } : {}),
  };
};

const statusOf = (detailType: string, text: (key: string) => string): [string, string] => {
  switch (detailType) {
    case SECRET_DETAIL_TYPES.synced:
      return ['synced', 'synced'];
    case SECRET_DETAIL_TYPES.unchanged:
      return ['unchanged', `unchanged (${text('count')})`];
    case SECRET_DETAIL_TYPES.deleted:
      return ['deleted', 'deleted'];
    case SECRET_DETAIL_TYPES.restored:
      return ['restored', 'restored'];
    case SECRET_DETAIL_TYPES.refused:
      return ['refused', `refused: ${text('reason')}: ${text('message')}`];
    default:
      return ['failed', `FAILED: ${text('error')}: ${text('message')}`];
  }
};
