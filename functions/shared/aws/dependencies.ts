import { Logger } from '@aws-lambda-powertools/logger';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Config, loadConfig } from '../config';
import type { Dependencies } from '../dependencies';
import { keywhizSecretSource } from '../keywhiz/keywhiz-client';
import { AcmPcaAuthority } from './acm-pca-authority';
import type { SecretsManagerApi } from './clients';
import { DynamoDbAccountStatusLog } from './dynamodb-account-status';
import { DynamoDbDeliveryLog } from './dynamodb-delivery-log';
import { EventBridgeAuditSink } from './eventbridge-audit-sink';
import { EventBridgeSecretChanges } from './eventbridge-secret-changes';
import { HttpsEnrollmentRegistry } from './https-enrollment-registry';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store';
import { SecretsManagerSvidStore } from './secrets-manager-svid-store';
import { SecretsManagerWebhookKeys } from './secrets-manager-webhook-keys';

/**
 * The steps' dependencies on AWS, read from the function's environment. Each adapter is built on first use,
 * so a function creates only the clients it calls.
 */
export const awsDependencies = (serviceName: string): Dependencies => {
  const config = loadConfig();
  const region = { region: config.AWS_REGION };
  const once = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => {
      value ??= make();
      return value;
    };
  };
  const secretsManager = once(() => new SecretsManagerClient(region));
  const eventBridge = once(() => new EventBridgeClient(region));
  const registry = once(() => new HttpsEnrollmentRegistry(config.ENROLLMENTS_URL));
  const authority = once(
    () =>
      new AcmPcaAuthority(new ACMPCAClient(region), {
        caArn: config.CA_ARN,
        signingAlgorithm: config.CA_SIGNING_ALGORITHM,
      }),
  );
  const svids = once(() => svidStoreOver(secretsManager(), config));
  const audit = once(() => new EventBridgeAuditSink(eventBridge(), { busName: config.AUDIT_BUS_NAME }));
  const secretSource = once(() => keywhizSecretSource(config));
  // The agent runs in its enrolled account: its own Secrets Manager is the account's store.
  const secretStore = once(
    () => new SecretsManagerSecretStore(secretsManager(), { kmsKeyId: config.SYNC_KMS_KEY_ID }),
  );
  const webhookKeys = once(
    () => new SecretsManagerWebhookKeys(secretsManager(), { secretName: config.WEBHOOK_KEY_SECRET_NAME }),
  );
  const dynamoDb = once(() => new DynamoDBClient(region));
  const deliveries = once(
    () => new DynamoDbDeliveryLog(dynamoDb(), { tableName: config.WEBHOOK_DELIVERY_TABLE }),
  );
  const accountStatus = once(
    () => new DynamoDbAccountStatusLog(dynamoDb(), { tableName: config.ACCOUNT_STATUS_TABLE }),
  );
  const secretChanges = once(
    () => new EventBridgeSecretChanges(eventBridge(), { busName: config.AUDIT_BUS_NAME }),
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
    get secretSource() {
      return secretSource();
    },
    secretStore: () => secretStore(),
    get webhookKeys() {
      return webhookKeys();
    },
    get deliveries() {
      return deliveries();
    },
    get secretChanges() {
      return secretChanges();
    },
    get accountStatus() {
      return accountStatus();
    },
    now: () => new Date(),
  };
};

/** The central SVID store over a Secrets Manager client: the SDK's on AWS, LocalSecretsManager at home. */
export const svidStoreOver = (client: SecretsManagerApi, config: Config): SecretsManagerSvidStore =>
  new SecretsManagerSvidStore(client, {
    kmsKeyId: config.SVID_KMS_KEY_ID,
    issuerRoleArn: config.ISSUER_ROLE_ARN,
    centralAccountId: config.CENTRAL_ACCOUNT_ID,
  });
