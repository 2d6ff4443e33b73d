/**
 * Offline IAM decisions with @cloud-copilot/iam-simulate: a role (its ARN and identity policies, as a resolved
 * template defines them) makes one request, against a resource with or without a resource policy. The request
 * context carries what AWS itself would set for a role session (aws:PrincipalArn, aws:PrincipalAccount, and
 * kms:CallerAccount for KMS); a test adds the request's own keys (kms:ViaService, aws:ResourceTag/…).
 * A simulation that cannot run (an unknown action, a malformed policy, a context key the action does not take)
 * throws: a broken setup never reads as a denial.
 */
import { runSimulation, type SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import type { ResolvedStack } from './intrinsics';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Role {
  arn: string;
  identityPolicies: SimulationIdentityPolicy[];
  /** The role's trust policy: the resource policy of sts:AssumeRole on it. */
  trustPolicy?: unknown;
}

export interface AccessRequest {
  role: Role;
  action: string;
  /** The resource's full ARN (its account is the ARN's), or "*" for actions without resource-level permissions. */
  resource: string;
  resourcePolicy?: unknown;
  /** The resource's account when its ARN has none (an S3 object's). */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
}

/** A role as a resolved template creates it: its ARN, inline policies and managed policies' absence checked. */
export function roleOf(stack: ResolvedStack, logicalId: string): Role {
  const properties = stack.properties(logicalId) as {
    Policies?: { PolicyName: string; PolicyDocument: unknown }[];
    ManagedPolicyArns?: string[];
    AssumeRolePolicyDocument: unknown;
  };
  // A managed policy's document is not in the template: a simulation without it would prove nothing.
  if (properties.ManagedPolicyArns?.length) {
    throw new Error(`role ${logicalId} has managed policies, which this simulation cannot see`);
  }
  return {
    arn: stack.getAtt(logicalId, 'Arn') as string,
    identityPolicies: (properties.Policies ?? []).map((p) => ({
      name: p.PolicyName,
      policy: p.PolicyDocument,
    })),
    trustPolicy: properties.AssumeRolePolicyDocument,
  };
}

/** A role outside any template (a customer's reader role, an administrator), with the policies given. */
export function externalRole(arn: string, ...statements: object[]): Role {
  return {
    arn,
    identityPolicies: statements.length
      ? [{ name: 'granted', policy: { Version: '2012-10-17', Statement: statements } }]
      : [],
  };
}

export const accountOf = (arn: string): string => {
  const account = arn.split(':')[4];
  if (!account || !/^\d{12}$/.test(account)) throw new Error(`no account in ARN ${arn}`);
  return account;
};

export async function decide(request: AccessRequest): Promise<Decision> {
  const { role, action } = request;
  const account = accountOf(role.arn);
  const roleName = role.arn
    .slice(role.arn.indexOf(':role/') + ':role/'.length)
    .split('/')
    .pop();
  const context: Record<string, string | string[]> = {
    'aws:PrincipalArn': role.arn,
    'aws:PrincipalAccount': account,
    'aws:PrincipalType': 'AssumedRole',
    ...(action.startsWith('kms:') && { 'kms:CallerAccount': account }),
    ...request.context,
  };
  const response = await runSimulation(
    {
      request: {
        principal: `arn:${role.arn.split(':')[1]}:sts::${account}:assumed-role/${roleName}/simulated-session`,
        action,
        resource: {
          resource: request.resource,
          accountId:
            request.resourceAccount ?? (request.resource === '*' ? account : accountOf(request.resource)),
        },
        contextVariables: context,
      },
      identityPolicies: role.identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy !== undefined && { resourcePolicy: request.resourcePolicy }),
    },
    { simulationMode: 'Strict' },
  );
  if (response.resultType === 'error') {
    throw new Error(
      `simulation of ${action} on ${request.resource} failed: ${JSON.stringify(response.errors)}`,
    );
  }
  return response.overallResult as Decision;
}

/** sts:AssumeRole of `target` by `caller`: the caller's identity policies and the target's trust policy. */
export function decideAssume(caller: Role, target: Role): Promise<Decision> {
  if (target.trustPolicy === undefined) throw new Error(`role ${target.arn} has no trust policy`);
  return decide({
    role: caller,
    action: 'sts:AssumeRole',
    resource: target.arn,
    resourcePolicy: target.trustPolicy,
  });
}
