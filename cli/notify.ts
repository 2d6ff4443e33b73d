import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  parseSecretChange,
  parseWebhookKey,
  SECRET_CHANGE_EVENTS,
  signedWebhookHeaders,
} from '../functions/shared/domain/webhook';
import { openDeployment } from './deployment/open-deployment';
import { DEFAULT_DATA_DIR, DEFAULT_WEBHOOK_URL } from './local-stack-options';
import { AWS_STACK_USAGE, DEPLOYMENT_OPTIONS } from './ops-options';

const TIMEOUT_MS = 10_000;

export const NOTIFY_USAGE = `trust-bridge notify --secret NAME [options]
  Signs and sends one Keywhiz-change webhook (for Keywhiz audit-log hooks and on-call use).
  Exits 0 when the receiver answers 202 (accepted, or a duplicate of an earlier delivery).

  --secret NAME        the Keywhiz secret that changed (required)
  --event E            ${SECRET_CHANGE_EVENTS.join(' | ')} (default: secret.updated)
  --service S          a service that owns the secret (repeatable; default: every secret-enabled account)
  --url URL            the receiver (default: ${DEFAULT_WEBHOOK_URL}; with --aws the stack's WebhookUrl output)
  --delivery-id ID     the delivery's id (default: a random UUID); resending an id is a no-op
  --data-dir DIR       where the local signing key lives (default: ${DEFAULT_DATA_DIR})
  --aws                send to the deployed receiver, signed with the deployed key: the stack's WebhookUrl and
                       WebhookSigningKeyArn outputs (the key read from Secrets Manager)
  --region R, --profile P   with --aws: the stack's region, and the AWS profile to read it with
${AWS_STACK_USAGE}
  The signing key is TRUST_BRIDGE_WEBHOOK_KEY (hex) when set, else the deployed key with --aws, else the local
  stack's key under --data-dir.`;

export interface NotifyOptions {
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
  now?: () => Date;
}

/** `trust-bridge notify`: builds, signs and POSTs one delivery; prints the receiver's answer. */
export const notifyCommand = async (argv: string[], options: NotifyOptions = {}): Promise<number> => {
  const env = options.env ?? process.env;
  const print = options.print ?? console.log;
  const { values } = parseArgs({
    args: argv,
    options: {
      secret: { type: 'string' },
      event: { type: 'string', default: 'secret.updated' },
      service: { type: 'string', multiple: true },
      url: { type: 'string' },
      'delivery-id': { type: 'string' },
      ...DEPLOYMENT_OPTIONS,
    },
    strict: true,
  });
  const deployment = openDeployment(values, { usage: NOTIFY_USAGE, env });
  const problems = [
    ...(values.secret === undefined ? ['--secret is required'] : []),
    ...('problems' in deployment ? deployment.problems : []),
  ];
  if (values.secret === undefined || 'problems' in deployment || problems.length > 0) {
    console.error(`${problems.join('\n')}\n\n${NOTIFY_USAGE}`);
    return 2;
  }
  // The receiver would refuse a bad delivery too; checking here says what is wrong before anything is sent.
  const parsed = parseSecretChange({
    deliveryId: values['delivery-id'] ?? randomUUID(),
    event: values.event,
    secret: values.secret,
    ...(values.service ? { services: values.service } : {}),
  });
  if (!parsed.ok) {
    console.error(parsed.message);
    return 2;
  }
  // With --aws, the deployed receiver and its key, from one look at the stack (nothing asked when both are given).
  const url = values.url ?? (await deployment.webhookUrl());
  const fromEnv = env.TRUST_BRIDGE_WEBHOOK_KEY;
  const key = fromEnv ? parseWebhookKey(fromEnv, 'TRUST_BRIDGE_WEBHOOK_KEY') : await deployment.webhookKey();
  const body = JSON.stringify(parsed.change);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: signedWebhookHeaders(key, body, options.now?.() ?? new Date()),
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    // fetch says only "fetch failed"; the cause (ECONNREFUSED, a timeout) is what an operator needs.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    console.error(`could not reach the webhook receiver at ${url}: ${reason}`);
    return 1;
  }
  print(`${response.status} ${response.statusText}`);
  print(await response.text());
  return response.status === 202 ? 0 : 1;
};
