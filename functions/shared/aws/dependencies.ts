import { Logger } from '@aws-lambda-powertools/logger';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../config';
import type { Dependencies } from '../dependencies';
import { AcmPcaAuthority } from './acm-pca-authority';
import { EventBridgeAuditSink } from './eventbridge-audit-sink';
import { HttpsEnrollmentRegistry } from './https-enrollment-registry';
import { SecretsManagerSvidStore } from './secrets-manager-svid-store';

/**
 * The steps' dependencies on AWS, read from the function's environment. Each adapter is built on first use,
 * so a function creates only the clients it calls.
 */
export const awsDependencies = (serviceName: string): Dependencies => {
  const config = loadConfig();
  const once = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => {
      value ??= make();
      return value;
    };
  };
  const registry = once(() => new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL));
  const authority = once(
    () =>
      new AcmPcaAuthority(new ACMPCAClient({ region: config.AWS_REGION }), {
        caArn: config.CA_ARN,
        signingAlgorithm: config.CA_SIGNING_ALGORITHM,
      }),
  );
  const svids = once(
    () =>
      new SecretsManagerSvidStore(new SecretsManagerClient({ region: config.AWS_REGION }), {
        kmsKeyId: config.SVID_KMS_KEY_ID,
        issuerRoleArn: config.ISSUER_ROLE_ARN,
        centralAccountId: config.CENTRAL_ACCOUNT_ID,
      }),
  );
  const audit = once(
    () =>
      new EventBridgeAuditSink(new EventBridgeClient({ region: config.AWS_REGION }), {
        busName: config.AUDIT_BUS_NAME,
      }),
  );
  return {
    config,
    logger: new Logger({ serviceName }),
    get registry() {
      return registry();
    },
    get authority() {
      return authority();
    },
    get svids() {
      return svids();
    },
    get audit() {
      return audit();
    },
    now: () => new Date(),
  };
};
