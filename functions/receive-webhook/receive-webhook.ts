import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { settingsOf } from '../shared/config';
import {
  parseSecretChange,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  WEBHOOK_MAX_BODY_BYTES,
  WEBHOOK_MAX_SKEW_SECONDS,
} from '../shared/domain/webhook';
import type { DeliveryLog } from '../shared/ports/delivery-log/delivery-log';
import type { SecretChanges } from '../shared/ports/secret-changes/secret-changes';
import type { WebhookKeys } from '../shared/ports/webhook-keys/webhook-keys';

export const settings = settingsOf(
  'AWS_REGION',
  'WEBHOOK_KEY_SECRET_NAME',
  'WEBHOOK_DELIVERY_TABLE',
  'AUDIT_BUS_NAME',
);

/** What the webhook receiver is given: the AWS adapters on Lambda, the local ones at home. */
export interface WebhookDependencies {
  logger: Logger;
  webhookKeys: WebhookKeys;
  deliveries: DeliveryLog;
  secretChanges: SecretChanges;
  now: () => Date;
}

export type WebhookResponse = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: object, headers: Record<string, string> = {}): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A refusal: `{ error, message }`, where `error` is a stable code and `message` says what to fix. */
class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const lower = (headers: APIGatewayProxyEventV2['headers']): Map<string, string> =>
  new Map(
    Object.entries(headers ?? {}).flatMap(([name, value]) =>
      value === undefined ? [] : [[name.toLowerCase(), value] as const],
    ),
  );

/** The body's bytes exactly as sent: the signature covers them, not a re-encoding. */
const rawBodyOf = (event: APIGatewayProxyEventV2): Buffer =>
  Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');

/** JSON is UTF-8 (RFC 8259): a charset parameter, when given, must say so. */
const contentTypeProblem = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined) return 'the Content-Type header is missing; send application/json';
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json')
    return `Content-Type ${mediaType || '(empty)'} is not application/json`;
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `charset ${charset} is not accepted; JSON must be UTF-8`;
  }
  return undefined;
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a signed Keywhiz-change delivery and puts it on the bus once. Each check fails fast in the order
 * below and changes nothing: cheap, unauthenticated checks first, then the signature, and only a signed
 * body is parsed. Bad input is a 4xx with a JSON error; a failing dependency is a 503 the sender retries.
 */
export const receiveWebhook =
  ({ logger, webhookKeys, deliveries, secretChanges, now }: WebhookDependencies) =>
  async (event: APIGatewayProxyEventV2): Promise<WebhookResponse> => {
    try {
      return await receive(event);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      logger.info('webhook refused', { status: error.statusCode, error: error.error });
      return json(error.statusCode, { error: error.error, message: error.message }, error.headers);
    }

    async function receive(event: APIGatewayProxyEventV2): Promise<WebhookResponse> {
      const method = event.requestContext?.http?.method ?? '';
      if (method !== 'POST') {
        throw new Refusal(
          405,
          'method-not-allowed',
          `${method || 'this method'} is not accepted; POST the delivery`,
          {
            allow: 'POST',
          },
        );
      }
      const rawBody = rawBodyOf(event);
      if (rawBody.length > WEBHOOK_MAX_BODY_BYTES) {
        throw new Refusal(
          413,
          'body-too-large',
          `the body is ${rawBody.length} bytes; at most ${WEBHOOK_MAX_BODY_BYTES} are accepted`,
        );
      }
      const headers = lower(event.headers);
      const contentType = contentTypeProblem(headers.get('content-type'));
      if (contentType) throw new Refusal(415, 'unsupported-content-type', contentType);

      const timestampText = headers.get(TIMESTAMP_HEADER.toLowerCase());
      if (timestampText === undefined) {
        throw new Refusal(400, 'missing-timestamp', `the ${TIMESTAMP_HEADER} header is missing`);
      }
      if (!/^\d{1,15}$/.test(timestampText.trim())) {
        throw new Refusal(400, 'invalid-timestamp', `${TIMESTAMP_HEADER} must be Unix time in whole seconds`);
      }
      const timestamp = Number(timestampText.trim());
      const age = Math.floor(now().getTime() / 1000) - timestamp;
      if (age > WEBHOOK_MAX_SKEW_SECONDS) {
        throw new Refusal(
          401,
          'stale-timestamp',
          `the delivery was signed ${age} s ago; at most ${WEBHOOK_MAX_SKEW_SECONDS} s is accepted (sign it again)`,
        );
      }
      if (-age > WEBHOOK_MAX_SKEW_SECONDS) {
        throw new Refusal(
          401,
          'future-timestamp',
          `the timestamp is ${-age} s in the future; at most ${WEBHOOK_MAX_SKEW_SECONDS} s is accepted (check the sender's clock)`,
        );
      }

      const signature = headers.get(SIGNATURE_HEADER.toLowerCase());
      if (signature === undefined) {
        throw new Refusal(401, 'missing-signature', `the ${SIGNATURE_HEADER} header is missing`);
      }
      const keys = await dependency('load the signing keys', () => webhookKeys.keys());
      if (!verifyWebhookSignature(keys, timestamp, rawBody, signature.trim())) {
        throw new Refusal(
          401,
          'invalid-signature',
          `${SIGNATURE_HEADER} is not v1=<hex HMAC-SHA256 of "<timestamp>.<body>"> under the current key`,
        );
      }

      let body: unknown;
      try {
        body = JSON.parse(UTF8.decode(rawBody));
      } catch {
        throw new Refusal(400, 'malformed-json', 'the body is not valid UTF-8 JSON');
      }
      const parsed = parseSecretChange(body);
      if (!parsed.ok) throw new Refusal(400, 'invalid-delivery', parsed.message);
      const change = parsed.change;
      const outcome = { deliveryId: change.deliveryId, secret: change.secret };

      if (!(await dependency('record the delivery', () => deliveries.claim(change.deliveryId)))) {
        logger.info('webhook delivery seen before', { ...outcome, status: 'duplicate' });
        return json(202, { deliveryId: change.deliveryId, status: 'duplicate' });
      }
      try {
        await secretChanges.announce(change);
      } catch (error) {
        // Forget the delivery so the sender's retry is not taken for a duplicate.
        await deliveries.release(change.deliveryId).catch((releaseError: unknown) => {
          logger.error('webhook delivery could not be released', {
            ...outcome,
            ...errorFields(releaseError),
          });
        });
        logger.error('webhook change not announced', { ...outcome, ...errorFields(error) });
        throw new Refusal(503, 'unavailable', 'the change could not be put on the bus; retry the delivery');
      }
      logger.info('webhook delivery accepted', { ...outcome, status: 'accepted' });
      return json(202, { deliveryId: change.deliveryId, status: 'accepted' });
    }

    /** A failing dependency is the receiver's problem, not the sender's: a 503 it retries. */
    async function dependency<T>(what: string, call: () => Promise<T>): Promise<T> {
      try {
        return await call();
      } catch (error) {
        logger.error(`webhook could not ${what}`, errorFields(error));
        throw new Refusal(503, 'unavailable', `the receiver could not ${what}; retry the delivery`);
      }
    }
  };

/** Name and message only: a message carries names, never a key or secret value; a stack trace stays out. */
const errorFields = (error: unknown) =>
  error instanceof Error
    ? { errorName: error.name, errorMessage: error.message }
    : { errorName: 'Error', errorMessage: String(error) };

/** Anything thrown past receiveWebhook (a bug) is answered with a bare 500, never a stack trace. */
const answerErrors = (logger: Logger): MiddlewareObj<APIGatewayProxyEventV2, WebhookResponse> => ({
  onError: async (request) => {
    logger.error('webhook receiver failed', errorFields(request.error));
    request.response = json(500, { error: 'internal', message: 'the receiver failed; retry the delivery' });
  },
});

/** The function URL's Lambda handler. */
export const createHandler = (deps: WebhookDependencies) =>
  middy<APIGatewayProxyEventV2, WebhookResponse, Error, Context>(receiveWebhook(deps))
    .use(injectLambdaContext(deps.logger))
    .use(answerErrors(deps.logger));
