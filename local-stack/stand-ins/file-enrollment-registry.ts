import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { type Enrollment, parseEnrollments } from '../../functions/shared/domain/enrollment';
import { InvalidEnrollment } from '../../functions/shared/domain/errors';
import type { EnrollmentRegistry } from '../../functions/shared/ports/enrollment-registry';

/** YAML 1.2's JSON schema for .json files, so a YAML-only scalar such as `yes` is an error there. */
const SCHEMA_BY_EXTENSION: Record<string, 'core' | 'json'> = {
  '.yaml': 'core',
  '.yml': 'core',
  '.json': 'json',
};

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
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InvalidEnrollment(
        code === 'ENOENT'
          ? `${this.path}: no such enrollment file`
          : `${this.path}: cannot be read (${code})`,
        { cause: error },
      );
    }
    let raw: unknown;
    try {
      raw = parse(text, { schema });
    } catch (error) {
      if (!(error instanceof YAMLParseError)) throw error;
      const at = error.linePos?.[0];
      // yaml's message ends with " at line L, column C:" and a code frame; we say where in our own words.
      const reason = error.message.split(/ at line \d+/)[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      throw new InvalidEnrollment(`${this.path}: syntax error${where}: ${reason}`, { cause: error });
    }
    return parseEnrollments(raw, this.path);
  }
}
