import type { SecretChange } from '../../domain/webhook';

/** Where accepted Keywhiz changes go: the bus whose rule starts the sync state machine for that secret. */
export interface SecretChanges {
  announce(change: SecretChange): Promise<void>;
}
