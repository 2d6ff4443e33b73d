import { get } from 'node:http';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { SvidUnavailable } from './errors';

/** Reads the SVID secret's current value: SecretBinary bytes or SecretString text. */
export type SvidSecretSource = () => Promise<Uint8Array | string>;

/** The one call the client makes to Secrets Manager; a SecretsManagerClient is one. */
export interface SecretsManagerReader {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

export interface ExtensionOptions {
  /** Default: $PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, else 2773. */
  port?: number;
  /** Default: $AWS_SESSION_TOKEN, which the extension requires as X-Aws-Parameters-Secrets-Token. */
  token?: string;
  /** Per request; default 3000. */
  timeoutMs?: number;
  /** Default: localhost. */
  host?: string;
}

const DEFAULT_EXTENSION_PORT = 2773;
/** A secret is at most 64 KiB; its base64 inside the extension's JSON stays far below this. */
const MAX_EXTENSION_BODY_BYTES = 1024 * 1024;

/** GetSecretValue by ARN (a cross-account read needs the ARN), with the function's own credentials. */
export function secretsManagerSource(
  secretId: string,
  client: SecretsManagerReader = new SecretsManagerClient({}),
): SvidSecretSource {
  return async () => {
    let output: GetSecretValueCommandOutput;
    try {
      output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      const { name, message } = error as Error;
      throw new SvidUnavailable(`GetSecretValue ${secretId} failed: ${name}: ${message}`, { cause: error });
    }
    return valueOf(output.SecretBinary, output.SecretString, secretId);
  };
}

/** What the extension answers for /secretsmanager/get: GetSecretValue's output, SecretBinary in base64. */
const extensionAnswer = z.object({
  SecretBinary: z.string().nullish(),
  SecretString: z.string().nullish(),
});

/**
 * GET http://localhost:2773/secretsmanager/get?secretId=<arn> on the AWS Parameters and Secrets Lambda
 * Extension, which reads with the function's credentials and keeps its own cache (default 300 s).
 */
export function extensionSource(secretId: string, options: ExtensionOptions = {}): SvidSecretSource {
  return async () => {
    const { status, body } = await askExtension(secretId, options);
    if (status !== 200) {
      // The extension's error text names the failure, not the value (it has none to give).
      const said = body.toString('utf8').slice(0, 200).trim();
      throw new SvidUnavailable(
        `the Parameters and Secrets extension answered HTTP ${status} for ${secretId}: ${said}`,
      );
    }
    let parsed: z.infer<typeof extensionAnswer>;
    try {
      parsed = extensionAnswer.parse(JSON.parse(body.toString('utf8')));
    } catch {
      throw new SvidUnavailable(
        `the Parameters and Secrets extension's answer for ${secretId} is not GetSecretValue JSON`,
      );
    }
    const binary = parsed.SecretBinary ? Buffer.from(parsed.SecretBinary, 'base64') : undefined;
    return valueOf(binary, parsed.SecretString ?? undefined, secretId);
  };
}

/**
 * The extension when it listens on its port (the layer is attached), else GetSecretValue directly.
 * Decided on the first read: an execution environment keeps its layers for its whole life.
 */
export function detectedSource(
  secretId: string,
  options: { extension?: ExtensionOptions; secretsManager?: SecretsManagerReader } = {},
): SvidSecretSource {
  const throughExtension = extensionSource(secretId, options.extension);
  let chosen: SvidSecretSource | undefined;
  return async () => {
    if (chosen) return chosen();
    try {
      const value = await throughExtension();
      chosen = throughExtension;
      return value;
    } catch (error) {
      if (!(error instanceof ExtensionAbsent)) throw error;
      chosen = secretsManagerSource(secretId, options.secretsManager);
      return chosen();
    }
  };
}

/** Nothing listens on the extension's port. */
class ExtensionAbsent extends SvidUnavailable {}

function askExtension(
  secretId: string,
  options: ExtensionOptions,
): Promise<{ status: number; body: Buffer }> {
  const port =
    options.port ?? (Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) || DEFAULT_EXTENSION_PORT);
  const token = options.token ?? process.env.AWS_SESSION_TOKEN;
  const where = `the Parameters and Secrets extension on port ${port}`;
  if (!token) {
    return Promise.reject(
      new SvidUnavailable(
        `${where} needs the session token: AWS_SESSION_TOKEN is not set and no token was given`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const request = get(
      {
        host: options.host ?? 'localhost',
        port,
        path: `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`,
        headers: { 'X-Aws-Parameters-Secrets-Token': token },
        timeout: options.timeoutMs ?? 3000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_EXTENSION_BODY_BYTES) {
            request.destroy(
              new SvidUnavailable(`${where} answered more than ${MAX_EXTENSION_BODY_BYTES} bytes`),
            );
          } else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new SvidUnavailable(`${where} did not answer in time`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof SvidUnavailable) reject(error);
      else if (error.code === 'ECONNREFUSED')
        reject(new ExtensionAbsent(`nothing listens at ${where}`, { cause: error }));
      else reject(new SvidUnavailable(`${where} failed: ${error.message}`, { cause: error }));
    });
  });
}

function valueOf(
  binary: Uint8Array | undefined,
  text: string | undefined,
  secretId: string,
): Uint8Array | string {
  if (binary && binary.length > 0) return binary;
  if (text) return text;
  throw new SvidUnavailable(`the secret ${secretId} has neither SecretBinary nor SecretString`);
}
