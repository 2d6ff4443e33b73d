import { X509Certificate } from 'node:crypto';

/**
 * SPIRE's SVID secret: the JSON its aws_secretsmanager SVID store writes (`json.Marshal` of its `Data` struct,
 * every field `omitempty`). trust-bridge writes it the same way; the function-side client reads it.
 */
export interface SpireSvidSecret {
  spiffeID: string;
  /** PEM chain, leaf first. */
  x509SVID: string;
  /** PKCS#8 PEM private key. */
  x509SVIDKey: string;
  /** PEM bundle of the SVID's own trust domain; "" when SPIRE had none (it leaves the field out). */
  bundle: string;
  /** `spiffe://<trust domain>` → PEM bundle. */
  federatedBundles: Record<string, string>;
}

/** A value that is not a SPIRE SVID secret; the message names the field, never its content. */
export class InvalidSpireSvidSecret extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The value exactly as SPIRE's aws_secretsmanager store writes it: fields in struct order, empty ones omitted
 * (`omitempty`), map keys sorted, Go's string escaping.
 */
export function encodeSpireSvidSecret(secret: SpireSvidSecret): Uint8Array {
  const fields: string[] = [];
  const add = (key: string, value: string) => {
    if (value !== '') fields.push(`${goString(key)}:${goString(value)}`);
  };
  add('spiffeID', secret.spiffeID);
  add('x509SVID', secret.x509SVID);
  add('x509SVIDKey', secret.x509SVIDKey);
  add('bundle', secret.bundle);
  const federated = Object.entries(secret.federatedBundles)
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([domain, pem]) => `${goString(domain)}:${goString(pem)}`);
  if (federated.length > 0) fields.push(`${goString('federatedBundles')}:{${federated.join(',')}}`);
  return new TextEncoder().encode(`{${fields.join(',')}}`);
}

/**
 * Reads a value written by SPIRE or by trust-bridge (SecretBinary bytes or SecretString text); an omitted field
 * reads as empty, as Go reads it. Throws InvalidSpireSvidSecret when it is not one.
 */
export function decodeSpireSvidSecret(value: Uint8Array | string): SpireSvidSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: true }).decode(value),
    );
  } catch {
    // JSON.parse quotes the text around the fault: that may be key material, so it is not kept.
    throw new InvalidSpireSvidSecret('the SVID secret is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidSpireSvidSecret('the SVID secret is not a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const text = (key: string): string => {
    const field = record[key] ?? '';
    if (typeof field !== 'string')
      throw new InvalidSpireSvidSecret(`the SVID secret's ${key} is not a string`);
    return field;
  };
  const federated = record.federatedBundles ?? {};
  if (
    typeof federated !== 'object' ||
    federated === null ||
    Array.isArray(federated) ||
    Object.values(federated).some((pem) => typeof pem !== 'string')
  ) {
    throw new InvalidSpireSvidSecret("the SVID secret's federatedBundles is not a map of strings");
  }
  return {
    spiffeID: text('spiffeID'),
    x509SVID: text('x509SVID'),
    x509SVIDKey: text('x509SVIDKey'),
    bundle: text('bundle'),
    federatedBundles: { ...(federated as Record<string, string>) },
  };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * Each PEM certificate of a field (`x509SVID`, `bundle`, a federated bundle), parsed; at least one. Throws
 * InvalidSpireSvidSecret naming the field.
 */
export function certificatesIn(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new InvalidSpireSvidSecret(`the SVID secret's ${field} holds no PEM certificate`);
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new InvalidSpireSvidSecret(
        `the SVID secret's ${field} holds a PEM certificate that does not parse`,
      );
    }
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A JSON string as Go's encoding/json writes it: JSON.stringify's escaping plus Go's HTML-safe escapes
 * (<, >, &) and U+2028/U+2029. Lone surrogates become U+FFFD first, as UTF-8 encoding would make them.
 */
function goString(value: string): string {
  return JSON.stringify(value.replace(LONE_SURROGATE, '\uFFFD')).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
