import * as z from './zod';
import { InvalidKeywhizResponse } from './errors';
import { KEYWHIZ_NAME_MAX, type KeywhizSecret, type KeywhizSecretInfo } from './keywhiz';

/**
 * Keywhiz's SecretDeliveryResponse, the one shape of its client API (`GET /secrets`, `GET /secret/{name}`,
 * `POST /batchsecret`). Jackson may write absent optional fields as null, so null counts as absent.
 * Every other top-level key is the secret's metadata flattened by Keywhiz (`@JsonAnyGetter`): string values
 * are kept, anything else (e.g. `expiry`, a number) is not metadata and is ignored.
 */
const secretDeliveryResponse = z.looseObject({
  name: z.string().check(z.minLength(1), z.maxLength(KEYWHIZ_NAME_MAX)),
  /** Base64 content; "" (or absent) in listings. */
  secret: z.nullish(z.string()),
  secretLength: z.nullish(z.number().check(z.int(), z.minimum(0))),
  checksum: z.nullish(z.string()),
  creationDate: z.nullish(z.iso.datetime({ offset: true })),
  updateDate: z.nullish(z.iso.datetime({ offset: true })),
  isVersioned: z.nullish(z.boolean()),
});

type SecretDeliveryResponse = z.infer<typeof secretDeliveryResponse>;

const KNOWN_FIELDS = new Set(Object.keys(secretDeliveryResponse.shape));

/** `GET /secrets`: every secret's metadata. Content a server puts in a listing is dropped unread. */
export function parseSecretListing(body: unknown): KeywhizSecretInfo[] {
  return array(body, 'the listing').map((item, index) =>
    info(response(item, `Keywhiz listing entry ${index}`)),
  );
}

/** `GET /secret/{name}`: one secret with its content, base64-decoded. */
export function parseSecretDelivery(body: unknown): KeywhizSecret {
  return withContent(response(body, 'Keywhiz response'));
}

/** `POST /batchsecret`: the requested secrets with their content. */
export function parseBatchDelivery(body: unknown): KeywhizSecret[] {
  return array(body, 'the batch response').map((item, index) =>
    withContent(response(item, `Keywhiz batch entry ${index}`)),
  );
}

function array(body: unknown, what: string): unknown[] {
  if (!Array.isArray(body)) throw new InvalidKeywhizResponse(`${what} is not a JSON array`);
  return body;
}

/** Checks the known fields; an error names the field and the secret (or its position), never a value. */
function response(body: unknown, position: string): SecretDeliveryResponse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidKeywhizResponse(`${position} is not a JSON object`);
  }
  const parsed = secretDeliveryResponse.safeParse(body);
  if (parsed.success) return parsed.data;
  const name = (body as { name?: unknown }).name;
  const subject =
    typeof name === 'string' && name.length > 0 && name.length <= KEYWHIZ_NAME_MAX
      ? `Keywhiz secret "${name}"`
      : position;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? '?';
  throw new InvalidKeywhizResponse(`${subject}: field "${field}": ${issue?.message ?? 'invalid'}`);
}

function info(response: SecretDeliveryResponse): KeywhizSecretInfo {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(response)) {
    if (!KNOWN_FIELDS.has(key) && typeof value === 'string') metadata[key] = value;
  }
  return {
    name: response.name,
    ...(response.checksum != null && { checksum: response.checksum }),
    ...(response.creationDate != null && { creationDate: response.creationDate }),
    ...(response.updateDate != null && { updateDate: response.updateDate }),
    ...(response.secretLength != null && { secretLength: response.secretLength }),
    metadata,
  };
}

function withContent(response: SecretDeliveryResponse): KeywhizSecret {
  const problem = (why: string) => new InvalidKeywhizResponse(`Keywhiz secret "${response.name}": ${why}`);
  if (response.secret == null) throw problem('field "secret" is missing: no content was delivered');
  const content = Buffer.from(response.secret, 'base64');
  // Node's decoder skips what is not base64; re-encoding shows whether anything was skipped.
  if (content.toString('base64').replace(/=+$/, '') !== response.secret.replace(/=+$/, '')) {
    throw problem('field "secret" is not base64');
  }
  if (response.secretLength != null && response.secretLength !== content.length) {
    throw problem(
      `field "secretLength" says ${response.secretLength} bytes, the content has ${content.length}`,
    );
  }
  return { ...info(response), content: new Uint8Array(content) };
}
