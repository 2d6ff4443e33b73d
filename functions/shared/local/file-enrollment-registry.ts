import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { type Enrollment, parseEnrollments } from '../domain/enrollment';
import { InvalidEnrollment } from '../domain/errors';
import type { EnrollmentRegistry } from '../ports/enrollment-registry';

/** YAML 1.2's JSON schema for .json files, so a YAML-only scalar such as `yes` is an error there. */
const SCHEMA_BY_EXTENSION: Record<string, 'core' | 'json'> = {
  '.yaml': 'core',
  '.yml': 'core',
  '.json': 'json',
};

/** The enrollments in a YAML or JSON file (the embedded default and `npm start`). Read on every list(). */
export class FileEnrollmentRegistry implements EnrollmentRegistry {
  constructor(private readonly path: string) {}

  async list(): Promise<Enrollment[]> {
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
