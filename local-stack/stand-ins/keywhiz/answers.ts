/**
 * Keywhiz's client API answers in its own JSON shapes: the listing, single and batch deliveries (all or
 * nothing), the BatchSecretRequest body, and errors with a Dropwizard-style body.
 */
import type { IncomingMessage } from 'node:http';
import type { SecretDescription, SecretsDirectory } from './secrets-directory';

const MAX_REQUEST_BYTES = 1024 * 1024;

/** An answer with a Dropwizard-style error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function allow(method: string, expected: string): void {
  if (method !== expected) throw new HttpError(405, 'HTTP 405 Method Not Allowed');
}

/** As Keywhiz lists: no content, and a length of 0 whatever the content's. */
export async function listing(directory: SecretsDirectory, service: string): Promise<unknown[]> {
  const described = await directory.list(service);
  return described.map((description) => deliveryResponse({ ...description, secretLength: 0 }, ''));
}

/**
 * Keywhiz's all-or-nothing delivery: 404 at the first unknown name, 403 naming every name that is another
 * service's; each secret once, however often it was asked for.
 */
export async function deliverAll(
  directory: SecretsDirectory,
  service: string,
  asked: string[],
): Promise<unknown[]> {
  const names = [...new Set(asked)];
  const found = await Promise.all(names.map((name) => directory.read(service, name)));
  const unknown = names.find((_, i) => found[i] === 'unknown');
  if (unknown !== undefined) throw new HttpError(404, `Secret not found: ${unknown}`);
  const denied = names.filter((_, i) => found[i] === 'denied');
  if (denied.length > 0) throw new HttpError(403, `Access denied to secret: ${denied.join(', ')}`);
  return found.map((secret) => {
    const { description, content } = secret as { description: SecretDescription; content: Buffer };
    return deliveryResponse(description, content.toString('base64'));
  });
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `{"secrets": ["name", …]}`, as Keywhiz's BatchSecretRequest. */
export function batchNames(body: Buffer): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  const secrets = (parsed as { secrets?: unknown } | null)?.secrets;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string')) {
    throw new HttpError(400, 'secrets: a non-empty array of secret names is required');
  }
  return secrets as string[];
}

/** Keywhiz's SecretDeliveryResponse: metadata flattened into the top level. */
function deliveryResponse(
  { metadata, ...fields }: SecretDescription,
  secret: string,
): Record<string, unknown> {
  return {
    name: fields.name,
    secret,
    secretLength: fields.secretLength,
    checksum: fields.checksum,
    creationDate: fields.creationDate,
    updateDate: fields.updateDate,
    isVersioned: fields.isVersioned,
    ...metadata,
  };
}
