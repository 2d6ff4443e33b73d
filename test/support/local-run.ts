import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Enrollment } from '../../functions/shared/domain/enrollment';
import { readAuditLog } from '../../local-stack/stand-ins/local-event-bus';
import { createLocalStack, type LocalStackOptions } from '../../local-stack/stack';

export type EnrollmentRecord = Partial<Enrollment> &
  Pick<Enrollment, 'service' | 'environment' | 'accountId'>;

/** Writes an enrollment file into a fresh temporary directory and starts a local stack over it. */
export const startLocalStack = async (
  records: EnrollmentRecord[],
  options: Partial<Omit<LocalStackOptions, 'dataDir' | 'enrollmentsPath'>> = {},
) => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-test-'));
  const dataDir = join(dir, 'data');
  const enrollmentsPath = join(dir, 'enrollments.json');
  const writeEnrollments = (next: EnrollmentRecord[]) =>
    writeFileSync(enrollmentsPath, JSON.stringify({ enrollments: next }, null, 2));
  writeEnrollments(records);
  const stack = await createLocalStack({ dataDir, enrollmentsPath, ...options });
  const auditEvents = async (runId?: string) =>
    (await readAuditLog(dataDir, stack.config.AUDIT_BUS_NAME))
      .map((e) => ({ ...e, detail: e.detail as Record<string, unknown> }))
      .filter((e) => !runId || e.detail.runId === runId);
  return { dir, dataDir, enrollmentsPath, writeEnrollments, stack, auditEvents };
};

export const enrollment = (
  accountId: string,
  service: string,
  extra: Partial<Enrollment> = {},
): EnrollmentRecord => ({
  service,
  environment: 'prod',
  accountId,
  identity: true,
  readerRoles: [`${service}-reader`],
  ...extra,
});
