import type { Enrollment } from '../../domain/enrollment';

/** Where the enrollments come from: a local file, or an HTTPS JSON endpoint on AWS. */
export interface EnrollmentRegistry {
  /** Every enrollment, validated. Throws InvalidEnrollment and returns nothing if any record is broken. */
  list(): Promise<Enrollment[]>;
}
