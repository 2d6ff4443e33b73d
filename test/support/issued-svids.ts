/**
 * SVID secrets exactly as rotation leaves them in the central account: one real rotation run on the local stack,
 * then each secret's ARN, tags and resource policy read back through the Secrets Manager API (ListSecrets,
 * GetResourcePolicy), as an auditor would read them on AWS.
 */
import { GetResourcePolicyCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { SVID_TAG } from '../../functions/shared/domain/svid-secret';
import { type EnrollmentRecord, startLocalStack } from './local-run';

export interface IssuedSvid {
  name: string;
  arn: string;
  accountId: string;
  service: string;
  environment: string;
  tags: Record<string, string>;
  resourcePolicy: unknown;
}

/** Rotates once over `records` with the given configuration (CENTRAL_ACCOUNT_ID, ISSUER_ROLE_ARN…). */
export async function issueSvids(
  records: EnrollmentRecord[],
  env: Record<string, string>,
): Promise<IssuedSvid[]> {
  const { stack } = await startLocalStack(records, { env });
  try {
    const run = await stack.rotate();
    if (run.status !== 'SUCCEEDED') throw new Error(`rotation ${run.status}: ${run.error} ${run.cause}`);
    const central = stack.services.secretsManager;
    const { SecretList = [] } = await central.send(new ListSecretsCommand({ MaxResults: 100 }));
    return await Promise.all(
      SecretList.filter((s) => s.Name?.startsWith(stack.config.SVID_SECRET_PREFIX)).map(async (s) => {
        const tags = Object.fromEntries((s.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
        const { ResourcePolicy } = await central.send(new GetResourcePolicyCommand({ SecretId: s.ARN }));
        if (!ResourcePolicy) throw new Error(`SVID secret ${s.Name} has no resource policy`);
        return {
          name: s.Name as string,
          arn: s.ARN as string,
          accountId: tags[SVID_TAG.accountId] ?? '',
          service: tags[SVID_TAG.service] ?? '',
          environment: tags[SVID_TAG.environment] ?? '',
          tags,
          resourcePolicy: JSON.parse(ResourcePolicy) as unknown,
        };
      }),
    );
  } finally {
    await stack.close();
  }
}
