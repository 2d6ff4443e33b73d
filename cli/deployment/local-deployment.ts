import { SecretsManagerSvidStore } from '../../functions/shared/ports/svid-store/secrets-manager-svid-store';
import { type LocalStack, readLocalStack } from '../../local-stack/stack';
import { DEFAULT_WEBHOOK_URL } from '../local-stack-options';
import { LocalRuns } from '../runs/local-runs';
import type { Deployment, OpsStores } from './deployment';

/**
 * The embedded default under a data directory: what it recorded is read without holding the directory; the stack
 * is opened (and the directory held) only to start or redrive a run.
 */
export class LocalDeployment implements Deployment {
  readonly runs: LocalRuns;
  readonly failedStatuses = ['FAILED', 'ABORTED'] as const;
  readonly runsRecordedIn: string;
  private records: ReturnType<typeof readLocalStack> | undefined;
  private stack: Promise<LocalStack | { exitCode: number }> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly env: Record<string, string | undefined>,
    /** Opens the stack, or says why not and gives the exit code. */
    private readonly openStack: () => Promise<LocalStack | { exitCode: number }>,
  ) {
    this.runsRecordedIn = dataDir;
    this.runs = new LocalRuns(
      () => this.recorded().executions(),
      async () => {
        const opened = await this.opened();
        if ('exitCode' in opened) throw new Error('the local stack did not open');
        return opened;
      },
    );
  }

  async readyToChange(): Promise<{ exitCode: number } | undefined> {
    const opened = await this.opened();
    return 'exitCode' in opened ? opened : undefined;
  }

  async stores(): Promise<OpsStores> {
    const { dataDir } = this;
    const recorded = this.recorded();
    if (!recorded.exists()) {
      throw new Error(
        `no local stack in ${dataDir}: run \`trust-bridge start\` or \`trust-bridge rotate --once\` first, or pass --data-dir`,
      );
    }
    return {
      svids: new SecretsManagerSvidStore(recorded.centralSecretsManager(), {}),
      accountStatus: recorded.accountStatus,
      trustDomain: () => Promise.resolve(recorded.config.TRUST_DOMAIN),
      where: dataDir,
    };
  }

  async webhookUrl(): Promise<string> {
    return DEFAULT_WEBHOOK_URL;
  }

  webhookKey(): Promise<Uint8Array> {
    return this.recorded().webhookKey();
  }

  async close(): Promise<void> {
    const opened = await this.stack;
    if (opened && !('exitCode' in opened)) await opened.close();
  }

  /** Read on first need: the configuration is checked only by a command that reads the records. */
  private recorded(): ReturnType<typeof readLocalStack> {
    this.records ??= readLocalStack(this.dataDir, this.env);
    return this.records;
  }

  private opened(): Promise<LocalStack | { exitCode: number }> {
    this.stack ??= this.openStack();
    return this.stack;
  }
}
