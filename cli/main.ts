import { COST_USAGE, costCommand } from './cost';
import { EXECUTIONS_USAGE, executionsCommand } from './executions';
import { NOTIFY_USAGE, notifyCommand } from './notify';
import { PUBLISH_AGENT_USAGE, publishAgentCommand } from './publish-agent';
import { REPLAY_USAGE, replayCommand } from './replay';
import { ROTATE_USAGE, rotateCommand } from './rotate';
import { START_USAGE, startCommand } from './start';
import { STATUS_USAGE, statusCommand } from './status';
import { SYNC_USAGE, syncCommand } from './sync';
import { VERIFY_USAGE, verifyCommand } from './verify';

const USAGE = `usage: trust-bridge <command> [options]

commands:
  start       the embedded default: one rotation, then one secrets sync (--serve keeps it running)
  rotate      issue and rotate SPIFFE X.509-SVIDs for the enrolled accounts
  sync        sync Keywhiz secrets into the secret-enabled accounts (all, one secret, or a replay)
  notify      sign and send one Keywhiz-change webhook to the receiver
  executions  list rotation and sync runs (locally, or --aws), newest first
  replay      re-run exactly the failed accounts of failed runs (or redrive a run that failed outside its fan-out)
  status      per account: SPIFFE ID, serial, time to expiry, last rotation, last sync, synced secrets, last failure
  verify      check an account's stored SVID: SPIFFE rules, chain to the bundle, key match, expiry
  publish-agent  put the sync agent's build in the deployed stack's bucket, for the onboarding StackSet
  cost        what a month on AWS costs, per line item, for N accounts; which CA mode costs less

${START_USAGE}

${ROTATE_USAGE}

${SYNC_USAGE}

${NOTIFY_USAGE}

${EXECUTIONS_USAGE}

${REPLAY_USAGE}

${STATUS_USAGE}

${VERIFY_USAGE}

${PUBLISH_AGENT_USAGE}

${COST_USAGE}`;

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
      case 'executions':
        return await executionsCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'status':
        return await statusCommand(rest);
      case 'verify':
        return await verifyCommand(rest);
      case 'publish-agent':
        return await publishAgentCommand(rest);
      case 'cost':
        return await costCommand(rest);
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
    if (isUsageError(error)) {
      console.error(`trust-bridge ${command}: ${error.message}\n(see \`trust-bridge help\` for its options)`);
      return 2;
    }
    // Errors carry names and messages only (never key material), so they are safe to show.
    const e = error instanceof Error ? error : new Error(String(error));
    console.error(`trust-bridge ${command}: ${e.name}: ${e.message}`);
    return 1;
  }
};

/** node:util's parseArgs throws these for an unknown option, a missing value or a stray argument. */
const isUsageError = (error: unknown): error is { message: string } =>
  typeof error === 'object' &&
  error !== null &&
  String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
