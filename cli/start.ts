import { parseArgs } from 'node:util';
import type { ExecutionRecord } from '../engine';
import { replayInputOf } from '../functions/shared/domain/replay';
import type { SyncSummary } from '../functions/shared/domain/sync';
import { deployedSchedules, type LocalStack, ROTATE_SVIDS, SYNC_SECRETS } from '../local-stack/stack';
import { formatInterval, formatSeconds, parseInterval } from './durations';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_KEYWHIZ_DIR,
  DEFAULT_WEBHOOK_PORT,
  KEYWHIZ_DIR_USAGE,
  massRetirement,
  openLocalStack,
  STACK_OPTIONS_USAGE,
  SYNC_STACK_OPTIONS,
  syncStackOptions,
} from './local-stack-options';
import { rotateAndReport, SYNC_OUTCOMES, syncAndReport } from './run-report';

export const START_USAGE = `trust-bridge start [options]
  The embedded default end to end: one SVID rotation, then one sync of the Keywhiz secrets into each
  secret-enabled account's local store, each printed as a table. Exits 0 when both succeeded.
  With --serve it keeps running until Ctrl-C: the webhook receiver on 127.0.0.1 (a signed Keywhiz change
  syncs that secret at once), and rotation and the full sync on the schedules serverless.yml deploys
  (rate(12 hours) and rate(1 hour) by default); --rotate-every and --sync-every run them sooner for a demo.

${STACK_OPTIONS_USAGE}
${KEYWHIZ_DIR_USAGE}
  --force              renew even SVIDs that are not yet inside the renewal window
  --allow-mass-retirement
                       let the first rotation retire from an empty registry or more than
                       MAX_RETIREMENT_SHARE of the SVIDs (as rotate --allow-mass-retirement)
  --once               one rotation and one sync, then exit: what start does unless --serve (as rotate --once)
  --serve              keep running, as above
  --port N             with --serve: the webhook receiver's port (default: ${DEFAULT_WEBHOOK_PORT}; 0 picks a free one)
  --sync-every D       with --serve: time between full syncs, e.g. 30s, 5m, 1h (default: serverless.yml's)
  --rotate-every D     with --serve: time between rotations (default: serverless.yml's)`;

/** `trust-bridge start`: rotation and sync once, then optionally the webhook receiver and both schedules. */
export const startCommand = async (argv: string[]): Promise<number> => {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SYNC_STACK_OPTIONS,
      force: { type: 'boolean', default: false },
      'allow-mass-retirement': { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string' },
      'sync-every': { type: 'string' },
      'rotate-every': { type: 'string' },
    },
    strict: true,
  });
  const problems: string[] = [];
  const port = parsePort(values.port ?? String(DEFAULT_WEBHOOK_PORT));
  if (port === undefined)
    problems.push(`--port ${JSON.stringify(values.port)}: must be a port number, 0 to 65535`);
  const [rotateEveryMs, syncEveryMs] = (
    [
      ['--rotate-every', values['rotate-every'], ROTATE_SVIDS],
      ['--sync-every', values['sync-every'], SYNC_SECRETS],
    ] as const
  ).map(([flag, given, machine]) => {
    if (given === undefined) {
      const deployed = deployedSchedules().find((s) => s.machine === machine);
      if (deployed?.everyMs === undefined && values.serve)
        problems.push(
          `serverless.yml schedules ${machine} by ${deployed?.expression ?? 'nothing'}: give ${flag}`,
        );
      return deployed?.everyMs;
    }
    const ms = parseInterval(given);
    if (ms === undefined)
      problems.push(`${flag} ${JSON.stringify(given)}: must be a duration like 30s, 5m or 1h`);
    return ms;
  });
  if (values.once && values.serve) problems.push('--once and --serve: give one (--once runs once and exits)');
  if (!values.serve) {
    for (const flag of ['port', 'sync-every', 'rotate-every'] as const) {
      if (values[flag] !== undefined) problems.push(`--${flag} needs --serve`);
    }
  }
  if (problems.length > 0 || port === undefined || syncEveryMs === undefined || rotateEveryMs === undefined) {
    console.error(`${problems.join('\n')}\n\n${START_USAGE}`);
    return 2;
  }

  const dataDir = values['data-dir'];
  const stack = await openLocalStack(
    {
      ...syncStackOptions(values),
      realDelays: values.serve,
      onExecutionRecorded: (record) => {
        if (isWebhookSync(record)) console.log(webhookSyncLine(record));
      },
    },
    START_USAGE,
  );
  if ('exitCode' in stack) return stack.exitCode;
  const keywhizDir = stack.settings.keywhizDir ?? DEFAULT_KEYWHIZ_DIR;
  try {
    const rotated = await rotateAndReport(stack, {
      force: values.force,
      ...massRetirement(values['allow-mass-retirement']),
    });
    console.log('');
    const synced = await syncAndReport(stack, {});
    if (!values.serve) return rotated === 0 && synced === 0 ? 0 : 1;
    await serve(stack, { dataDir, keywhizDir, port, syncEveryMs, rotateEveryMs });
    return 0;
  } finally {
    await stack.close();
  }
};

interface ServeOptions {
  dataDir: string;
  keywhizDir: string;
  port: number;
  syncEveryMs: number;
  rotateEveryMs: number;
}

/** Runs the receiver and both schedules until SIGINT or SIGTERM, then lets running work finish and stops. */
const serve = async (stack: LocalStack, o: ServeOptions): Promise<void> => {
  const server = await stack.serveWebhooks(o.port);
  const stopped = stopRequested();
  // One run at a time, as on AWS a scheduled run would not race another over the same store.
  let queue: Promise<unknown> = Promise.resolve();
  const every = (ms: number, what: string, run: () => Promise<number>) =>
    setInterval(() => {
      queue = queue
        .then(() => {
          console.log(`\nscheduled ${what}, ${new Date().toISOString()}`);
          return run();
        })
        .catch((error: unknown) => {
          const e = error instanceof Error ? error : new Error(String(error));
          console.error(`scheduled run: ${e.name}: ${e.message}`);
        });
    }, ms);
  const timers = [
    every(o.rotateEveryMs, 'rotation', () => rotateAndReport(stack, {})),
    every(o.syncEveryMs, 'full sync', () => syncAndReport(stack, {})),
  ];
  try {
    const notifyFlags = [
      ...(o.port === DEFAULT_WEBHOOK_PORT ? [] : [`--url ${server.url}`]),
      ...(o.dataDir === DEFAULT_DATA_DIR ? [] : [`--data-dir ${o.dataDir}`]),
    ];
    console.log(`\nwebhook receiver: ${server.url}`);
    console.log(
      `edit a file under ${o.keywhizDir}/<service>/ then run: npx trust-bridge notify --secret NAME${notifyFlags.map((f) => ` ${f}`).join('')}`,
    );
    console.log(
      `next rotation in ${formatInterval(o.rotateEveryMs)}, next full sync in ${formatInterval(o.syncEveryMs)}; Ctrl-C stops`,
    );
    const signal = await stopped.signal;
    console.log(`${signal}: stopping`);
  } finally {
    stopped.cancel();
    for (const timer of timers) clearInterval(timer);
    await server.close();
    await queue;
    await stack.settled();
  }
};

/** Resolves with the first SIGINT or SIGTERM; cancel() removes the listeners either way. */
const stopRequested = () => {
  let stop: (signal: NodeJS.Signals) => void = () => {};
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    stop = resolve;
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal,
    cancel: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
};

/** A sync the webhook rule started: the rule passes the delivery, a schedule or an operator does not. */
const isWebhookSync = (record: ExecutionRecord): boolean =>
  record.stateMachineName === SYNC_SECRETS &&
  record.parentExecutionArn === undefined &&
  typeof (record.input as { deliveryId?: unknown } | null)?.deliveryId === 'string';

const webhookSyncLine = (record: ExecutionRecord): string => {
  const input = record.input as { secret?: string; deliveryId: string };
  const took = formatSeconds(Date.parse(record.stopDate) - Date.parse(record.startDate));
  const head = `webhook sync of ${JSON.stringify(input.secret ?? '')} (delivery ${input.deliveryId}): ${record.status} in ${took}`;
  if (record.status === 'SUCCEEDED') {
    const summary = record.output as SyncSummary;
    return `${head} (${SYNC_OUTCOMES.map((o) => `${summary[o]} ${o}`).join(', ')})`;
  }
  const replay = replayInputOf(record.cause) ? `; replay: trust-bridge replay ${record.name}` : '';
  return `${head}: ${record.error ?? 'failed'}${replay}`;
};

const parsePort = (text: string): number | undefined => {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 0 && port <= 65_535 ? port : undefined;
};
