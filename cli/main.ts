import { NOTIFY_USAGE, notifyCommand } from './notify';
import { ROTATE_USAGE, rotateCommand } from './rotate';

const USAGE = `usage: trust-bridge <command> [options]

commands:
  rotate    issue and rotate SPIFFE X.509-SVIDs for the enrolled accounts
  notify    sign and send one Keywhiz-change webhook to the receiver
  bench     measure rotation of 1,000 and 10,000 accounts on the embedded default

${ROTATE_USAGE}

${NOTIFY_USAGE}`;

/** The `trust-bridge` command line. Returns the process exit code. */
export const main = async (argv: string[]): Promise<number> => {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'rotate':
        return await rotateCommand(rest);
      case 'notify':
        return await notifyCommand(rest);
      case 'bench': {
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
