import type { Logger } from '@aws-lambda-powertools/logger';
import type { Config } from './config';
import type { AuditSink } from './ports/audit-sink';
import type { CertificateAuthority } from './ports/certificate-authority';
import type { EnrollmentRegistry } from './ports/enrollment-registry';
import type { SvidStore } from './ports/svid-store';

/** What the steps are given: the same shape from the AWS adapters and from the local stand-ins. */
export interface Dependencies {
  config: Config;
  logger: Logger;
  registry: EnrollmentRegistry;
  authority: CertificateAuthority;
  svids: SvidStore;
  audit: AuditSink;
  now: () => Date;
}
