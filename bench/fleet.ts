import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FleetEnrollment {
  service: string;
  environment: 'prod';
  accountId: string;
  identity: true;
  secrets: boolean;
  readerRoles: string[];
}

/**
 * A benchmark's fleet: `accounts` services, `service-<i>` in account `firstAccountId + i`, each with an SVID and,
 * where `secretEnabled` says, its Keywhiz secrets; written as `<dir>/enrollments.json`.
 */
export const writeFleetEnrollments = (
  dir: string,
  accounts: number,
  options: { firstAccountId: number; secretEnabled?: (i: number) => boolean; readerRoles?: string[] },
): { enrollmentsPath: string; enrollments: FleetEnrollment[] } => {
  const enrollments = Array.from({ length: accounts }, (_, i): FleetEnrollment => ({
    service: `service-${i}`,
    environment: 'prod',
    accountId: String(options.firstAccountId + i),
    identity: true,
    secrets: options.secretEnabled?.(i) ?? false,
    readerRoles: options.readerRoles ?? [],
  }));
  const enrollmentsPath = join(dir, 'enrollments.json');
  writeFileSync(enrollmentsPath, JSON.stringify({ enrollments }));
  return { enrollmentsPath, enrollments };
};
