/** The call probe (call-probe.ts) on the local Secrets Manager, by the operations it implements. */
import type { LocalServices } from '../local-stack/stack';
import { type CallProbe, probeCalls } from './call-probe';

/** The operations the stand-in implements, as Secrets Manager names them. */
export type SecretsManagerOperation =
  | 'CreateSecret'
  | 'PutSecretValue'
  | 'DescribeSecret'
  | 'ListSecrets'
  | 'GetSecretValue'
  | 'TagResource'
  | 'UntagResource'
  | 'PutResourcePolicy'
  | 'GetResourcePolicy'
  | 'DeleteResourcePolicy'
  | 'DeleteSecret'
  | 'RestoreSecret'
  | 'BatchGetSecretValue'
  | 'UpdateSecretVersionStage';

export type SecretsManagerProbe = CallProbe<SecretsManagerOperation>;

/**
 * The store's probe, put on at the first ask by replacing its `send`: counts start then, so put it on before the
 * calls it is to count.
 */
export const probeSecretsManager = (store: LocalServices['secretsManager']): SecretsManagerProbe =>
  probeCalls<SecretsManagerOperation>(store);
