/**
 * Validates a CloudFormation template offline with @aws/cloudformation-validate (bundled resource schemas and
 * rules, WASM): the same check for the packaged stack and for infra/onboarding.yml.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RegoEngine,
  type Severity,
  type StandardDiagnostic,
  TemplateFile,
  type ValidateConfig,
} from '@aws/cloudformation-validate';
import type { CfnTemplate } from './packaged-stack';

export type { Severity };

/** One diagnostic, in the words a failing test should print. */
export interface Finding {
  severity: Severity;
  ruleId: string;
  message: string;
  /** The resource, parameter, condition or output it is about, if any. */
  logicalId?: string;
  propertyPath?: string;
}

export interface ValidateOptions {
  /** Values for the template's Parameters (its Defaults otherwise). */
  parameters?: Record<string, string>;
  /** Lowest severity reported (default WARN: INFO and DEBUG are style advice). */
  minSeverity?: Severity;
}

const finding = (d: StandardDiagnostic): Finding => ({
  severity: d.severity,
  ruleId: d.ruleId,
  message: d.message,
  ...(d.entity?.logicalId ? { logicalId: d.entity.logicalId } : {}),
  ...(d.propertyPath ? { propertyPath: d.propertyPath } : {}),
});

function validateFile(path: string, options: ValidateOptions): Finding[] {
  const engine = new RegoEngine();
  try {
    const config: ValidateConfig = {
      severityLevel: options.minSeverity ?? 'WARN',
      parameterOverrides: options.parameters ?? {},
    };
    return engine.validateStandard(new TemplateFile(path), config).diagnostics.map(finding);
  } finally {
    engine.free();
  }
}

/**
 * The validator's findings for a template: a parsed template (JSON, intrinsics in long form), or the path of a
 * JSON or YAML template file (short-form tags such as `!Ref` are understood).
 */
export async function validateTemplate(
  template: CfnTemplate | string,
  options: ValidateOptions = {},
): Promise<Finding[]> {
  if (typeof template === 'string') return validateFile(template, options);
  const dir = await mkdtemp(join(tmpdir(), 'trust-bridge-validate-'));
  try {
    const path = join(dir, 'template.json');
    await writeFile(path, JSON.stringify(template));
    return validateFile(path, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Findings that block a deployment: CloudFormation would reject the template, or the resource would fail. */
export const blocking = (findings: Finding[]): Finding[] =>
  findings.filter((f) => f.severity === 'ERROR' || f.severity === 'FATAL');
