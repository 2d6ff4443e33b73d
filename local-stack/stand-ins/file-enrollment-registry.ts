import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import {
  type Enrollment,
  ENROLLMENTS_MAX_BYTES,
  parseEnrollments,
  registryTooLarge,
} from '../../functions/shared/domain/enrollment';
import { InvalidEnrollment } from '../../functions/shared/domain/errors';
import type { EnrollmentRegistry } from '../../functions/shared/ports/enrollment-registry/enrollment-registry';

/** YAML 1.2's JSON schema for .json files, so a YAML-only scalar such as `yes` is an error there. */
const SCHEMA_BY_EXTENSION: Record<string, 'core' | 'json'> = {
  '.yaml': 'core',
  '.yml': 'core',
  '.json': 'json',
};

/**
 * Aliases a YAML registry may resolve, weighted by what each expands to (yaml's default, said here on purpose):
 * an alias bomb of a few hundred bytes would otherwise expand to gigabytes.
 */
const MAX_YAML_ALIASES = 100;

/**
 * The enrollments in a YAML or JSON file (the embedded default and `npm start`). Parsed again whenever the
 * file changed: every chunk of a run lists the registry, and 10,000 records take long to parse each time.
 */
export class FileEnrollmentRegistry implements EnrollmentRegistry {
  #parsed: { stamp: string; enrollments: Promise<Enrollment[]> } | undefined;

  constructor(private readonly path: string) {}

  async list(): Promise<Enrollment[]> {
    const stamp = await stat(this.path, { bigint: true }).then(
      (s) => `${s.ino}:${s.size}:${s.mtimeNs}`,
      () => 'unreadable',
    );
    if (this.#parsed?.stamp !== stamp) {
      const enrollments = this.read();
      // A failed read is not kept: the next list() tries again.
      enrollments.catch(() => {
        if (this.#parsed?.enrollments === enrollments) this.#parsed = undefined;
      });
      this.#parsed = { stamp, enrollments };
    }
    return this.#parsed.enrollments;
  }

  private async read(): Promise<Enrollment[]> {
    const schema = SCHEMA_BY_EXTENSION[extname(this.path).toLowerCase()];
    if (!schema) {
      throw new InvalidEnrollment(`${this.path}: an enrollment file ends in .yaml, .yml or .json`);
    }
    const text = await this.readText();
    let raw: unknown;
    try {
      raw = schema === 'json' ? parseJson(text) : parse(text, { schema, maxAliasCount: MAX_YAML_ALIASES });
    } catch (error) {
      if (error instanceof ReferenceError) throw aliasError(this.path, error);
      if (!(error instanceof YAMLParseError)) throw error;
      const at = error.linePos?.[0];
      // yaml's message ends with " at line L, column C:" and a code frame; we say where in our own words.
      const reason = error.message.split(/ at line \d+/)[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      throw new InvalidEnrollment(`${this.path}: syntax error${where}: ${reason}`, { cause: error });
    }
    return parseEnrollments(raw, this.path);
  }

  /** The file's text; refused unread when it is over ENROLLMENTS_MAX_BYTES. */
  private async readText(): Promise<string> {
    const file = await open(this.path, 'r').catch((error: unknown) => {
      throw this.unreadable(error);
    });
    try {
      const { size } = await file.stat();
      if (size > ENROLLMENTS_MAX_BYTES) throw registryTooLarge(this.path, size);
      const buffer = await file.readFile();
      // It may have grown since the stat.
      if (buffer.byteLength > ENROLLMENTS_MAX_BYTES) throw registryTooLarge(this.path, buffer.byteLength);
      return buffer.toString('utf8');
    } catch (error) {
      throw error instanceof InvalidEnrollment ? error : this.unreadable(error);
    } finally {
      await file.close();
    }
  }

  private unreadable(error: unknown): InvalidEnrollment {
    const code = (error as NodeJS.ErrnoException).code;
    return new InvalidEnrollment(
      code === 'ENOENT' ? `${this.path}: no such enrollment file` : `${this.path}: cannot be read (${code})`,
      { cause: error },
    );
  }
}

/**
 * JSON.parse for a .json file: 100,000 records in 0.4 s where yaml takes 29 s and 1.5 GB. On a syntax error yaml
 * (JSON schema) reads it again for the line and column, and takes what it takes, as before.
 */
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return parse(text, { schema: 'json', maxAliasCount: MAX_YAML_ALIASES });
  }
};

/** yaml throws a ReferenceError for an alias bomb or an alias before its anchor. */
const aliasError = (path: string, error: ReferenceError): InvalidEnrollment =>
  new InvalidEnrollment(
    /resource exhaustion/.test(error.message)
      ? `${path}: its YAML aliases expand too far (an alias bomb?): an alias may stand for at most ` +
          `${MAX_YAML_ALIASES} nodes in all. Write the values out instead of using aliases`
      : `${path}: ${error.message}`,
    { cause: error },
  );
