import type { Logger } from '@aws-lambda-powertools/logger';
import type * as z from './domain/zod';
import type { Config } from './config';
import type { AccountStatusLog } from './ports/account-status/account-status';
import type { AuditSink } from './ports/audit-sink/audit-sink';
import type { CertificateAuthority } from './ports/certificate-authority/certificate-authority';
import type { DeliveryLog } from './ports/delivery-log/delivery-log';
import type { EnrollmentRegistry } from './ports/enrollment-registry/enrollment-registry';
import type { RunFiles } from './ports/run-files/run-files';
import type { SecretChanges } from './ports/secret-changes/secret-changes';
import type { SecretSourceFactory } from './ports/secret-source/secret-source';
import type { SecretStoreFactory } from './ports/secret-store/secret-store';
import type { SvidStore } from './ports/svid-store/svid-store';
import type { WebhookKeys } from './ports/webhook-keys/webhook-keys';

/** The ports a step may be given: AWS adapters in its handler.ts, the local stand-ins in the embedded default. */
export interface Ports {
  registry: EnrollmentRegistry;
  authority: CertificateAuthority;
  svids: SvidStore;
  audit: AuditSink;
  /** Keywhiz, as one service sees it with its own SVID (the sync agent). */
  secretSource: SecretSourceFactory;
  /** An enrolled account's Secrets Manager (the sync agent's own account on AWS). */
  secretStore: SecretStoreFactory;
  /** The webhook receiver's signing keys, delivery ids seen, and where it announces changes. */
  webhookKeys: WebhookKeys;
  deliveries: DeliveryLog;
  secretChanges: SecretChanges;
  /** What each run last did per account and service, for `trust-bridge status`. */
  accountStatus: AccountStatusLog;
  /** Where a run's plan and results are kept, beyond what a state payload holds. */
  runFiles: RunFiles;
  now: () => Date;
}

/** What one step declares it needs: its own settings (a settingsOf schema), a logger and the ports it names. */
export type StepDependencies<S extends z.ZodMiniObject, K extends keyof Ports = never> = {
  config: z.infer<S>;
  logger: Logger;
} & Pick<Ports, K>;

/** Everything, as the embedded default holds it: each step takes the slice it declares. */
export type Dependencies = { config: Config; logger: Logger } & Ports;
