import { ACMPCAClient, GetCertificateCommand, IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sdkClientConfig } from '../../functions/shared/aws/clients';
import { type ApiQuota, PCA_ISSUANCE_MS, quotaOf } from './quotas';
import type { SimulatedLambda } from './simulated-lambda';
import { TokenBucket } from './token-bucket';

type Service = 'ACM PCA' | 'Secrets Manager' | 'EventBridge';

/** The part of the SDK's retry strategy (RetryStrategyV2) that decides and waits between attempts. */
interface RetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<object>;
  refreshRetryTokenForRetry(token: object, errorInfo: { errorType: 'THROTTLING' }): Promise<object>;
  recordSuccess(token: object): void;
}

/**
 * Each service's retry strategy exactly as the function's own SDK client builds it (its version of the SDK, with
 * SDK_MAX_ATTEMPTS): one per container and service, since a Lambda container keeps its clients and their retry
 * quota between invocations.
 */
const CLIENTS: Record<Service, () => { config: { retryStrategy: () => Promise<unknown> } }> = {
  'ACM PCA': () => new ACMPCAClient(sdkClientConfig('us-east-1')),
  'Secrets Manager': () => new SecretsManagerClient(sdkClientConfig('us-east-1')),
  EventBridge: () => new EventBridgeClient(sdkClientConfig('us-east-1')),
};

export interface ApiCounts {
  /** Attempts that reached the service, SDK retries included. */
  calls: number;
  throttled: number;
  /** Attempts the SDK made again after a throttle. */
  retries: number;
}

interface Sendable {
  send: (command: never) => Promise<unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const throttlingError = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

const stillIssuing = (arn: string) =>
  Object.assign(new Error(`The request to issue certificate ${arn} is still in progress`), {
    name: 'RequestInProgressException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

/**
 * AWS's APIs in simulated time, over the embedded default's stand-ins: each attempt takes its typical latency and
 * a token from its quota's bucket (per account: every account's Secrets Manager has quotas of its own), or is
 * throttled; throttles are retried as the calling function's SDK client retries them. ACM PCA also takes
 * PCA_ISSUANCE_MS to finish a certificate, answering RequestInProgressException until then.
 */
export class SimulatedApis {
  readonly counts = new Map<string, ApiCounts>();
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #readyAt = new Map<string, number>();

  constructor(private readonly lambda: SimulatedLambda) {}

  /** Replaces the stand-in's `send` (as the SDK client would stand there) by its simulated-AWS twin. */
  wrap(service: Service, account: string, client: Sendable): void {
    const send = client.send.bind(client);
    const simulated = async (command: never) => {
      const operation = (command as object).constructor.name.replace(/Command$/, '');
      const quota = quotaOf(service, operation);
      if (!quota) throw new Error(`the simulation has no quota for ${service} ${operation}`);
      const counts = this.#countsOf(service, operation);
      const strategy = await this.#retryStrategy(service);
      let token = await strategy?.acquireInitialRetryToken(service);
      for (;;) {
        counts.calls += 1;
        await sleep(quota.latencyMs);
        if (this.#bucket(account, quota).take(Date.now())) {
          const answer = await this.#serve(send, command);
          if (strategy && token) strategy.recordSuccess(token);
          return answer;
        }
        counts.throttled += 1;
        const throttled = throttlingError();
        if (!strategy || !token) throw throttled;
        try {
          token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
        } catch {
          throw throttled;
        }
        counts.retries += 1;
      }
    };
    Object.defineProperty(client, 'send', { value: simulated, configurable: true, writable: true });
  }

  async #serve(send: (command: never) => Promise<unknown>, command: object): Promise<unknown> {
    if (command instanceof GetCertificateCommand) {
      const arn = command.input.CertificateArn ?? '';
      if ((this.#readyAt.get(arn) ?? 0) > Date.now()) throw stillIssuing(arn);
    }
    const answer = await send(command as never);
    if (command instanceof IssueCertificateCommand) {
      const arn = (answer as { CertificateArn?: string }).CertificateArn ?? '';
      // A repeated idempotency token answers the certificate already under way: its readiness stays.
      if (!this.#readyAt.has(arn)) this.#readyAt.set(arn, Date.now() + PCA_ISSUANCE_MS);
    }
    return answer;
  }

  /** The calling container's client's strategy; none outside a function (the bench's own setup calls). */
  async #retryStrategy(service: Service): Promise<RetryStrategy | undefined> {
    const container = this.lambda.container;
    if (!container) return undefined;
    let strategy = container.retryStrategies.get(service);
    if (!strategy) {
      strategy = CLIENTS[service]().config.retryStrategy();
      container.retryStrategies.set(service, strategy);
    }
    return (await strategy) as RetryStrategy;
  }

  #bucket(account: string, quota: ApiQuota): TokenBucket {
    const key = `${account} ${quota.service} ${quota.operations[0]}`;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(quota.perSecond, quota.burst);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  #countsOf(service: Service, operation: string): ApiCounts {
    const key = `${service} ${operation}`;
    let counts = this.counts.get(key);
    if (!counts) {
      counts = { calls: 0, throttled: 0, retries: 0 };
      this.counts.set(key, counts);
    }
    return counts;
  }
}
