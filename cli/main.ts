import { NOTIFY_USAGE, notifyCommand } from './notify';
import { ROTATE_USAGE, rotateCommand } from './rotate';
import { START_USAGE, startCommand } from './start';
import { SYNC_USAGE, syncCommand } from './sync';

const USAGE = `usage: trust-bridge <command> [options]

commands:
  start     the embedded default: one rotation, then one secrets sync (--serve keeps it running)
  rotate    issue and rotate SPIFFE X.509-SVIDs for the enrolled accounts
  sync      sync Keywhiz secrets into the secret-enabled accounts (all, one secret, or a replay)
  notify    sign and send one Keywhiz-change webhook to the receiver
  bench     measure rotation of 1,000 and 10,000 accounts on the embedded default;
            bench sync: a reconcile of 10,000 unchanged secrets in 100 accounts, and webhook latency

${START_USAGE}

${ROTATE_USAGE}

${SYNC_USAGE}

${NOTIFY_USAGE}`;

/** The `trust-bridge` command line. Returns the process exit code. */
export const main = async (argv: string[]): Promise<number> => {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await startCommand(rest);
      case 'rotate':
        return await rotateCommand(rest);
      case 'sync':
        return await syncCommand(rest);
      case 'notify':
        return await notifyCommand(rest);
      case 'bench': {
        // Each bench reruns its own command line in child processes, so each has a command of its own.
        if (rest[0] === 'sync') {
          const { syncBenchCommand } = await import('../bench/sync-bench');
          return await syncBenchCommand(rest.slice(1));
        }
        const { benchCommand } = await import('../bench/rotation-bench');
        return await benchCommand(rest);
      }
      case undefined:
      case 'help':
      case '--help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    // Errors carry names and messages only (never key material), so they are safe to show.
    const e = error instanceof Error ? error : new Error(String(error));
    console.error(`trust-bridge ${command}: ${e.name}: ${e.message}`);
    return 1;
  }
};
