import { parseArgs } from 'node:util';
import { syncRequestSchema } from '../functions/shared/domain/sync';
import {
  KEYWHIZ_DIR_USAGE,
  openLocalStack,
  STACK_OPTIONS_USAGE,
  SYNC_STACK_OPTIONS,
  syncStackOptions,
} from './local-stack-options';
import { syncAndReport } from './run-report';

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
    return await syncAndReport(stack, parsed.data);
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
