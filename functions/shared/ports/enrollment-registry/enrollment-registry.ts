import type { Enrollment } from '../../domain/enrollment';

/**
 * Where the enrollments come from.
 *
 * On AWS: `./https-enrollment-registry.ts` (an HTTPS JSON endpoint). At home:
 * `local-stack/stand-ins/file-enrollment-registry.ts`, a stand-in for this port reading a file.
 */
export interface EnrollmentRegistry {
  /** Every enrollment, validated. Throws InvalidEnrollment and returns nothing if any record is broken. */
  list(): Promise<Enrollment[]>;
}
