/** infra/onboarding.yml rendered for one enrolled account, with the parameters the central stack's outputs give. */
import { fileURLToPath } from 'node:url';
import { readCloudFormationYaml } from './cloudformation-yaml';
import { resolveStack, type ResolvedStack } from './intrinsics';

export const ONBOARDING_TEMPLATE_PATH = fileURLToPath(new URL('../../infra/onboarding.yml', import.meta.url));
export const onboardingTemplate = readCloudFormationYaml(ONBOARDING_TEMPLATE_PATH);

/** The parameters without a default, for a central account and region. */
export const requiredOnboardingParameters = (central: string, region: string) => ({
  CentralAccountId: central,
  SyncChunkRoleArn: `arn:aws:iam::${central}:role/trust-bridge-prod-${region}-sync-chunk`,
  IssuerRoleArn: `arn:aws:iam::${central}:role/trust-bridge-prod-${region}-issue-svid`,
  SvidKeyArn: `arn:aws:kms:${region}:${central}:key/0f2a4b6c-8d0e-4f1a-9b3c-5d7e9f1a3b5c`,
  AuditBusArn: `arn:aws:events:${region}:${central}:event-bus/trust-bridge-audit`,
  AgentCodeBucket: 'trust-bridge-artifacts',
  AgentCodeKey: 'sync-agent/0123456789abcdef0123456789abcdef.zip',
  KeywhizUrl: 'https://keywhiz.example.org:4444',
});

export const renderOnboarding = (
  deployment: { central: string; account: string; region: string },
  parameters: Record<string, string> = {},
): ResolvedStack =>
  resolveStack(onboardingTemplate, {
    accountId: deployment.account,
    region: deployment.region,
    parameters: { ...requiredOnboardingParameters(deployment.central, deployment.region), ...parameters },
  });
