import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { AcmPcaAuthority } from '../functions/shared/aws/acm-pca-authority';
import { EventBridgeAuditSink } from '../functions/shared/aws/eventbridge-audit-sink';
import { SecretsManagerSvidStore } from '../functions/shared/aws/secrets-manager-svid-store';
import { type Config, loadConfig } from '../functions/shared/config';
import type { Dependencies } from '../functions/shared/dependencies';
import { FileEnrollmentRegistry } from '../functions/shared/local/file-enrollment-registry';
import { LocalAcmPca } from '../functions/shared/local/local-acm-pca';
import { LocalEventBus } from '../functions/shared/local/local-event-bus';
import { LocalSecretsManager } from '../functions/shared/local/local-secrets-manager';
import { SoftwareCertificateAuthority } from '../functions/shared/local/software-ca';

export interface LocalOptions {
  dataDir: string;
  enrollmentsPath: string;
  /** Configuration overrides, as environment variables would give them. */
  env?: Record<string, string>;
  now?: () => Date;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

/** The stand-ins behind each port, so the caller can count their calls or inject faults. */
export interface LocalServices {
  ca: SoftwareCertificateAuthority;
  /** ACM Private CA's API over the software CA: what the AcmPcaAuthority adapter calls locally. */
  pca: LocalAcmPca;
  secretsManager: LocalSecretsManager;
  eventBus: LocalEventBus;
}

/**
 * The steps' dependencies on the embedded default: the same adapters as on AWS, each over a stand-in that
 * speaks the AWS API (ACM Private CA over a software CA, Secrets Manager over files, EventBridge over an
 * audit log), and the enrollment file.
 */
export const localDependencies = async (
  options: LocalOptions,
): Promise<{ deps: Dependencies; services: LocalServices; config: Config }> => {
  const config = loadConfig({ ...options.env });
  const now = options.now ?? (() => new Date());
  const ca = await SoftwareCertificateAuthority.open(join(options.dataDir, 'ca'), config.TRUST_DOMAIN);
  const caArn =
    config.CA_ARN ||
    `arn:aws:acm-pca:${config.AWS_REGION}:${config.CENTRAL_ACCOUNT_ID}:certificate-authority/local`;
  const pca = new LocalAcmPca(ca, caArn);
  const secretsManager = new LocalSecretsManager({
    dataDir: options.dataDir,
    accountId: config.CENTRAL_ACCOUNT_ID,
    region: config.AWS_REGION,
    now,
  });
  const eventBus = new LocalEventBus(options.dataDir, { now });
  const deps: Dependencies = {
    config,
    logger: new Logger({ serviceName: 'trust-bridge-local', logLevel: options.logLevel ?? 'SILENT' }),
    registry: new FileEnrollmentRegistry(options.enrollmentsPath),
    // Signing is immediate locally, so no wait before the first GetCertificate.
    authority: new AcmPcaAuthority(pca, { caArn, pollIntervalMs: 0 }),
    svids: new SecretsManagerSvidStore(secretsManager, {
      kmsKeyId: config.SVID_KMS_KEY_ID,
      issuerRoleArn: config.ISSUER_ROLE_ARN,
      centralAccountId: config.CENTRAL_ACCOUNT_ID,
    }),
    audit: new EventBridgeAuditSink(eventBus, { busName: config.AUDIT_BUS_NAME }),
    now,
  };
  return { deps, services: { ca, pca, secretsManager, eventBus }, config };
};
