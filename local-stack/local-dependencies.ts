import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { AcmPcaAuthority } from '../functions/shared/ports/certificate-authority/acm-pca-authority';
import { EventBridgeAuditSink } from '../functions/shared/ports/audit-sink/eventbridge-audit-sink';
import { EventBridgeSecretChanges } from '../functions/shared/ports/secret-changes/eventbridge-secret-changes';
import { SecretsManagerSecretStore } from '../functions/shared/ports/secret-store/secrets-manager-secret-store';
import { SecretsManagerSvidStore } from '../functions/shared/ports/svid-store/secrets-manager-svid-store';
import { S3RunFiles } from '../functions/shared/ports/run-files/s3-run-files';
import { SecretsManagerWebhookKeys } from '../functions/shared/ports/webhook-keys/secrets-manager-webhook-keys';
import type { Config } from '../functions/shared/config';
import { InvalidConfiguration } from '../functions/shared/domain/errors';
import { lockDataDir } from './data-dir-lock';
import { type DataDirSettings, type SettingsRequest, settleDataDirSettings } from './data-dir-settings';
import { localConfig } from './local-config';
import type { Dependencies } from '../functions/shared/dependencies';
import type {
  KeywhizServerCa,
  SecretSourceFactory,
} from '../functions/shared/ports/secret-source/secret-source';
import type { Enrollment } from '../functions/shared/domain/enrollment';
import { svidSubject } from '../functions/shared/domain/svid-subject';
import { keywhizSecretSource } from '../functions/shared/ports/secret-source/keywhiz-client';
import { SecretsManagerKeywhizServerCa } from '../functions/shared/ports/secret-source/keywhiz-server-ca';
import { FileAccountStatusLog } from './stand-ins/file-account-status';
import { FileDeliveryLog } from './stand-ins/file-delivery-log';
import { FileEnrollmentRegistry } from './stand-ins/file-enrollment-registry';
import { KeywhizDevServer } from './stand-ins/keywhiz/keywhiz-dev-server';
import { ensureDevServerCa } from './stand-ins/keywhiz/server-ca-secret';
import { LocalAcmPca } from './stand-ins/local-acm-pca';
import { LocalEventBus } from './stand-ins/local-event-bus';
import { LocalS3 } from './stand-ins/s3/local-s3';
import { LocalSecretsManager } from './stand-ins/secrets-manager/local-secrets-manager';
import { ensureLocalWebhookKey } from './stand-ins/local-webhook-key';
import { SoftwareCertificateAuthority } from './stand-ins/software-ca/software-ca';

export interface LocalOptions extends SettingsRequest {
  dataDir: string;
  /** The enrollment registry; absent: the one the data directory was created with, else defaults'. */
  enrollmentsPath?: string | undefined;
  /**
   * Serve this directory (`<dir>/<service>/<secret-name>`) with the Keywhiz dev server for the sync agents;
   * with defaults.keywhizDir, the one the data directory remembers, else that default. Without either (and
   * without KEYWHIZ_URL) the stack rotates SVIDs only.
   */
  keywhizDir?: string | undefined;
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
  /** The central account's Secrets Manager (SVIDs, the webhook key). */
  secretsManager: LocalSecretsManager;
  /** Each enrolled account's own Secrets Manager, opened on first use (synced Keywhiz secrets). */
  accountSecretsManager: (accountId: string) => LocalSecretsManager;
  eventBus: LocalEventBus;
  /** S3, holding the runs' files (RUN_FILES_BUCKET): the functions and the engine's Distributed Maps share it. */
  s3: LocalS3;
  /** The Keywhiz dev server, when the stack serves a Keywhiz directory. */
  keywhiz?: KeywhizDevServer;
}

export interface LocalDependencies {
  deps: Dependencies;
  services: LocalServices;
  config: Config;
  /** The registry and Keywhiz directory in use: given, or remembered by the data directory. */
  settings: DataDirSettings;
  /** This process's hold on the data directory (see data-dir-lock). */
  writer: { pid: number; token: string; since: string };
  /** What a function container needs to make the per-account steps' ports of its own. */
  accountSteps: AccountStepsSetup;
  /** Stops the Keywhiz dev server and gives the data directory up. */
  close: () => Promise<void>;
}

/**
 * The steps' dependencies on the embedded default: the same adapters as on AWS, each over a stand-in that
 * speaks the AWS API (ACM Private CA over a software CA, Secrets Manager over files, EventBridge over an
 * audit log), the enrollment file, and Keywhiz's client API over a directory. The data directory is held
 * first (one writer) and given up again, with the dev server stopped, when a later step fails.
 */
export const localDependencies = async (options: LocalOptions): Promise<LocalDependencies> => {
  const lock = await lockDataDir(options.dataDir);
  const opened: (() => Promise<void>)[] = [() => lock.release()];
  const close = async () => {
    // Last opened, first closed; each is closed even when an earlier one fails to close.
    const results = await Promise.allSettled(
      opened
        .splice(0)
        .reverse()
        .map((c) => c()),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    return await openDependencies(options, lock.writer, (closer) => opened.push(closer), close);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
};

const openDependencies = async (
  options: LocalOptions,
  writer: LocalDependencies['writer'],
  onClose: (closer: () => Promise<void>) => void,
  close: () => Promise<void>,
): Promise<LocalDependencies> => {
  const settings = await settleDataDirSettings(options.dataDir, options);
  let config = localConfig(options.env);
  const now = options.now ?? (() => new Date());
  const ca = await SoftwareCertificateAuthority.open(join(options.dataDir, 'ca'), config.TRUST_DOMAIN);
  const registry = new FileEnrollmentRegistry(settings.enrollmentsPath);
  // Indexed once per registry read (it keeps its list while the file is unchanged), not scanned per request.
  const indexes = new WeakMap<Enrollment[], Map<string, string>>();
  const servicesBySpiffeId = (enrollments: Enrollment[]) => {
    let index = indexes.get(enrollments);
    if (!index) {
      index = new Map(enrollments.map((e) => [svidSubject(config, e).spiffeId, e.service]));
      indexes.set(enrollments, index);
    }
    return index;
  };

  let keywhiz: KeywhizDevServer | undefined;
  let keywhizSetup: AccountStepsSetup['keywhiz'];
  if (options.env?.KEYWHIZ_URL !== undefined) keywhizSetup = {};
  else if (settings.keywhizDir) {
    keywhiz = await KeywhizDevServer.start({
      dir: settings.keywhizDir,
      ca,
      trustDomain: config.TRUST_DOMAIN,
      // Keywhiz maps a client's SPIFFE ID to its client; here the enrollments say which service an ID is.
      serviceOf: async (spiffeId) => servicesBySpiffeId(await registry.list()).get(spiffeId),
      checksumKeyFile: join(options.dataDir, 'keywhiz', 'checksum.key'),
      // Its certificate comes from a CA of its own, kept here so the accounts' copies stay good across restarts.
      caDir: join(options.dataDir, 'keywhiz', 'ca'),
    });
    const server = keywhiz;
    onClose(() => server.close());
    config = { ...config, KEYWHIZ_URL: keywhiz.url, KEYWHIZ_SERVER_SPIFFE_ID: keywhiz.spiffeId };
    keywhizSetup = { serverCaPem: keywhiz.caPem };
  }
  const steps = accountSteps(
    { dataDir: options.dataDir, config, ...(keywhizSetup ? { keywhiz: keywhizSetup } : {}) },
    ca,
    now,
  );
  onClose(steps.close);
  const { secretsManager, eventBus } = steps.services;
  await ensureLocalWebhookKey(secretsManager, config.WEBHOOK_KEY_SECRET_NAME);
  const s3 = new LocalS3({ dataDir: options.dataDir, buckets: [config.RUN_FILES_BUCKET] });

  const deps: Dependencies = {
    config,
    logger: localLogger(options.logLevel),
    registry,
    ...steps.ports,
    webhookKeys: new SecretsManagerWebhookKeys(secretsManager, {
      secretName: config.WEBHOOK_KEY_SECRET_NAME,
    }),
    deliveries: new FileDeliveryLog(options.dataDir),
    secretChanges: new EventBridgeSecretChanges(eventBus, { busName: config.AUDIT_BUS_NAME }),
    accountStatus: new FileAccountStatusLog(options.dataDir),
    runFiles: new S3RunFiles(s3, config.RUN_FILES_BUCKET),
    now,
  };
  return {
    deps,
    services: { ca, ...steps.services, s3, ...(keywhiz ? { keywhiz } : {}) },
    config,
    settings,
    writer,
    accountSteps: { dataDir: options.dataDir, config, ...(keywhizSetup ? { keywhiz: keywhizSetup } : {}) },
    close,
  };
};

export const localLogger = (logLevel: LocalOptions['logLevel']) =>
  new Logger({ serviceName: 'trust-bridge-local', logLevel: logLevel ?? 'SILENT' });

/**
 * What the per-account steps' ports are made from, as plain data, so a function container (a worker thread)
 * makes its own: the data directory, the configuration (the dev server's URL and SPIFFE ID in it) and Keywhiz.
 */
export interface AccountStepsSetup {
  dataDir: string;
  config: Config;
  /** Absent: no Keywhiz. The dev server's CA, which each agent's account is given; {} for a KEYWHIZ_URL of your own. */
  keywhiz?: { serverCaPem?: string };
}

/** The ports the per-account steps (Issue SVID, Retire SVID, Sync Agent) declare, over the stand-ins they run on. */
export type AccountStepPorts = Pick<
  Dependencies,
  'authority' | 'svids' | 'audit' | 'secretSource' | 'secretStore'
>;

/**
 * The stand-ins the per-account steps reach and their ports: the same AWS adapters, over ACM Private CA's API on the
 * software CA, the central and each account's Secrets Manager, the audit bus, and Keywhiz's client.
 */
export const accountSteps = (setup: AccountStepsSetup, ca: SoftwareCertificateAuthority, now: () => Date) => {
  const { dataDir, config } = setup;
  const caArn = config.CA_ARN;
  const pca = new LocalAcmPca(ca, caArn);
  const openSecretsManager = (accountId: string) =>
    new LocalSecretsManager({ dataDir, accountId, region: config.AWS_REGION, now });
  const secretsManager = openSecretsManager(config.CENTRAL_ACCOUNT_ID);
  const accountStores = new Map<string, LocalSecretsManager>();
  const accountSecretsManager = (accountId: string) => {
    const store = accountStores.get(accountId) ?? openSecretsManager(accountId);
    accountStores.set(accountId, store);
    return store;
  };
  const eventBus = new LocalEventBus(dataDir, { now });
  const serverCaPem = setup.keywhiz?.serverCaPem;
  // Built on first use, once, so a stack without Keywhiz still rotates; a sync then fails with InvalidConfiguration.
  let secretSource: SecretSourceFactory | undefined;
  // Each agent reads Keywhiz's CA from its own account's store, as on AWS, through the same adapter. With the dev
  // server, the stack first writes the dev server's CA there (as the onboarding stack writes Keywhiz's CA); with
  // a KEYWHIZ_URL of your own, put your Keywhiz's CA there under KEYWHIZ_SERVER_CA_SECRET.
  const serverCas = new Map<string, KeywhizServerCa>();
  const serverCaOf = (accountId: string): KeywhizServerCa => {
    const known = serverCas.get(accountId);
    if (known) return known;
    const store = accountSecretsManager(accountId);
    const reader = new SecretsManagerKeywhizServerCa(store, config.KEYWHIZ_SERVER_CA_SECRET);
    let given: Promise<void> | undefined;
    const serverCa: KeywhizServerCa = {
      source: reader.source,
      pem: async () => {
        if (serverCaPem !== undefined) {
          const giving = (given ??= ensureDevServerCa(store, config.KEYWHIZ_SERVER_CA_SECRET, serverCaPem));
          await giving.catch((error: unknown) => {
            if (given === giving) given = undefined;
            throw error;
          });
        }
        return reader.pem();
      },
      forget: () => reader.forget(),
    };
    serverCas.set(accountId, serverCa);
    return serverCa;
  };
  const ports: AccountStepPorts = {
    // Signing is immediate locally, so no wait before the first GetCertificate.
    authority: new AcmPcaAuthority(pca, { caArn, pollIntervalMs: 0 }),
    svids: new SecretsManagerSvidStore(secretsManager, {
      kmsKeyId: config.SVID_KMS_KEY_ID,
      issuerRoleArn: config.ISSUER_ROLE_ARN,
      centralAccountId: config.CENTRAL_ACCOUNT_ID,
    }),
    audit: new EventBridgeAuditSink(eventBus, { busName: config.AUDIT_BUS_NAME }),
    secretSource: async (credentials, accountId) => {
      if (!setup.keywhiz) {
        throw new InvalidConfiguration(
          'KEYWHIZ_URL is not set: serve a Keywhiz directory (--keywhiz-dir) or give KEYWHIZ_URL',
        );
      }
      secretSource ??= keywhizSecretSource(config, serverCaOf);
      return secretSource(credentials, accountId);
    },
    secretStore: (accountId) =>
      new SecretsManagerSecretStore(accountSecretsManager(accountId), { kmsKeyId: config.SYNC_KMS_KEY_ID }),
  };
  // Removes the spare files the stores' writes keep (spare-inodes.ts).
  const close = async () => {
    await Promise.all([secretsManager, ...accountStores.values()].map((store) => store.close()));
  };
  return { services: { pca, secretsManager, accountSecretsManager, eventBus }, ports, close };
};
