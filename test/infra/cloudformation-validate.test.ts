/**
 * @aws/cloudformation-validate over the packaged stack: no finding that would block a deployment, whichever CA
 * the stack uses; and proof that the check itself rejects a broken template.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { type CfnTemplate, packageStack } from '../support/packaged-stack';
import { blocking, type Finding, validateTemplate } from '../support/template-validation';

let template: CfnTemplate;

beforeAll(async () => {
  ({ template } = await packageStack());
}, 300_000);

/** Rule ids and where, so a failure reads as a list of problems. */
const summary = (findings: Finding[]) =>
  findings.map((f) => `${f.severity} ${f.ruleId} ${f.logicalId ?? ''} ${f.propertyPath ?? ''}: ${f.message}`);

describe('the packaged stack', () => {
  it('has no FATAL or ERROR finding with the CA given by ARN', async () => {
    expect(summary(blocking(await validateTemplate(template)))).toEqual([]);
  });

  it('has no FATAL or ERROR finding when the stack creates its own CA', async () => {
    const findings = await validateTemplate(template, { parameters: { CertificateAuthorityArn: '' } });
    expect(summary(blocking(findings))).toEqual([]);
  });
});

describe('the validation', () => {
  it('reports a resource property CloudFormation would reject', async () => {
    const broken: CfnTemplate = {
      ...template,
      Resources: {
        ...template.Resources,
        AuditArchive: {
          Type: 'AWS::Events::Archive',
          Properties: { SourceArn: { 'Fn::GetAtt': ['AuditBus', 'Arn'] }, RetentionDays: 'forever' },
        },
      },
    };
    const findings = blocking(await validateTemplate(broken));
    expect(findings).toEqual([expect.objectContaining({ logicalId: 'AuditArchive' })]);
  });
});
