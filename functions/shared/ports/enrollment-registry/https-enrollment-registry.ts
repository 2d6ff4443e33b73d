import {
  type Enrollment,
  ENROLLMENTS_MAX_BYTES,
  parseEnrollments,
  registryTooLarge,
} from '../../domain/enrollment';
import { EnrollmentsUnavailable, InvalidConfiguration, InvalidEnrollment } from '../../domain/errors';
import type { EnrollmentRegistry } from './enrollment-registry';

export interface HttpsEnrollmentRegistryOptions {
  fetch?: typeof fetch;
  /** Whole request, body included (default 10 s). */
  timeoutMs?: number;
}

/** Plain http is accepted only on the loopback interface, where tests serve the registry. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The enrollments served as JSON (`{"enrollments": [...]}`) by an HTTPS endpoint (ENROLLMENTS_URL). */
export class HttpsEnrollmentRegistry implements EnrollmentRegistry {
  private readonly url: URL;
  /** The URL as it may appear in messages: no credentials, no query string (it may hold a token). */
  private readonly shownUrl: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(url: string, options: HttpsEnrollmentRegistryOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidConfiguration('ENROLLMENTS_URL: not a URL');
    }
    this.shownUrl = `${parsed.origin}${parsed.pathname}`;
    const loopbackHttp = parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
    if (parsed.protocol !== 'https:' && !loopbackHttp) {
      throw new InvalidConfiguration(`ENROLLMENTS_URL: ${this.shownUrl} must use https://`);
    }
    this.url = parsed;
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async list(): Promise<Enrollment[]> {
    let body: unknown;
    try {
      // redirect: 'error' so a redirect cannot take the request off https.
      const response = await this.fetch(this.url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) {
        const Failure = response.status >= 500 ? EnrollmentsUnavailable : InvalidEnrollment;
        throw new Failure(
          `${this.shownUrl}: answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
        );
      }
      const text = await readBounded(response, this.shownUrl);
      try {
        body = JSON.parse(text);
      } catch {
        throw new InvalidEnrollment(`${this.shownUrl}: the response is not JSON`);
      }
    } catch (error) {
      if (error instanceof InvalidEnrollment || error instanceof EnrollmentsUnavailable) throw error;
      const { name, message, cause } = error as Error & { cause?: { code?: string } };
      // undici says only "fetch failed"; the cause's code (ECONNREFUSED, ENOTFOUND…) says why.
      const why = cause?.code ? `${message}: ${cause.code}` : message;
      throw new EnrollmentsUnavailable(
        name === 'TimeoutError'
          ? `${this.shownUrl}: no complete answer within ${this.timeoutMs} ms`
          : `${this.shownUrl}: request failed (${why})`,
        { cause: error },
      );
    }
    return parseEnrollments(body, this.shownUrl);
  }
}

/** The body as text, refused once it passes ENROLLMENTS_MAX_BYTES: a declared length first, then as it arrives. */
const readBounded = async (response: Response, source: string): Promise<string> => {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > ENROLLMENTS_MAX_BYTES) throw registryTooLarge(source, declared);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // Leaving the loop by the throw cancels the stream, so the rest is never downloaded.
  for await (const chunk of response.body ?? []) {
    bytes += chunk.byteLength;
    if (bytes > ENROLLMENTS_MAX_BYTES) throw registryTooLarge(source);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
};
