import { parseArgs } from 'node:util';
import { formatInterval } from './durations';
import {
  envOf,
  massRetirement,
  openLocalStack,
  STACK_OPTIONS,
  STACK_OPTIONS_USAGE,
} from './local-stack-options';
import { rotateAndReport } from './run-report';

const TWELVE_HOURS_MS = 12 * 3_600_000;

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
    if (values.once) return await rotateAndReport(stack, request);

    let status = await rotateAndReport(stack, request);
    const timer = setInterval(async () => {
      status = await rotateAndReport(stack, {});
    }, TWELVE_HOURS_MS);
    console.log(`next rotation in ${formatInterval(TWELVE_HOURS_MS)}; Ctrl-C stops`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    clearInterval(timer);
    return status;
  } finally {
    // Gives the data directory up for the next command.
    await stack.close();
  }
};
