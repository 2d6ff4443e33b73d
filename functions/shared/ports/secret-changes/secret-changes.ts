import type { SecretChange } from '../../domain/webhook';

/**
 * Where accepted Keywhiz changes go: the bus whose rule starts the sync state machine for that secret.
 *
 * On AWS: `./eventbridge-secret-changes.ts`. At home: the same adapter over `local-stack/stand-ins/local-event-bus.ts`.
 */
export interface SecretChanges {
  announce(change: SecretChange): Promise<void>;
}
