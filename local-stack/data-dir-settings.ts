import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readIfPresent } from './read-if-present';

/**
 * What a data directory was created with: its enrollment registry and Keywhiz directory, as absolute paths in
 * `<dataDir>/settings.json`. A command that is not given them uses these, so a directory is never rotated
 * against another registry by omission (the sample registry would retire most of a real fleet).
 */
export interface DataDirSettings {
  enrollmentsPath: string;
  keywhizDir?: string;
}

/** What one opening of the stack asks for. */
export interface SettingsRequest {
  /** Given by the caller (e.g. --enrollments); absent: the remembered one, else the default. */
  enrollmentsPath?: string | undefined;
  keywhizDir?: string | undefined;
  /** What a first use takes when nothing is given or remembered; no keywhizDir default: Keywhiz is not served. */
  defaults?: { enrollmentsPath?: string | undefined; keywhizDir?: string | undefined } | undefined;
  /** Take what is given even though the directory remembers another, and remember it from now on. */
  reconfigure?: boolean | undefined;
}

/** A command gave another registry or Keywhiz directory than the data directory was created with. */
export class DataDirReconfigureRefused extends Error {
  override readonly name = 'DataDirReconfigureRefused';
}

const SETTINGS_FILE = 'settings.json';

export const settingsFileOf = (dataDir: string): string => join(dataDir, SETTINGS_FILE);

const WHAT = {
  enrollmentsPath: { flag: '--enrollments', noun: 'the enrollment registry' },
  keywhizDir: { flag: '--keywhiz-dir', noun: 'the Keywhiz directory' },
} as const;

/**
 * The settings this opening uses, remembered for the next one. Call it only while holding the data directory
 * (data-dir-lock), so two processes never write the file at once.
 */
export const settleDataDirSettings = async (
  dataDir: string,
  request: SettingsRequest,
): Promise<DataDirSettings> => {
  const remembered = await readDataDirSettings(dataDir);
  const problems: string[] = [];
  const pick = (field: keyof typeof WHAT): string | undefined => {
    const given = request[field] === undefined ? undefined : resolve(request[field]);
    const kept = remembered?.[field];
    if (given !== undefined && kept !== undefined && given !== kept && !request.reconfigure) {
      const { flag, noun } = WHAT[field];
      problems.push(
        `${flag} ${given}: ${dataDir} was created with ${noun} ${kept}. Leave ${flag} out (or give that one), ` +
          `give another --data-dir, or add --reconfigure to use ${given} from now on.`,
      );
    }
    const fallback = request.defaults?.[field];
    return given ?? kept ?? (fallback === undefined ? undefined : resolve(fallback));
  };
  const enrollmentsPath = pick('enrollmentsPath');
  const keywhiz = pick('keywhizDir');
  // Keywhiz is served only when asked for (given, or a default): rotation alone needs no dev server.
  const keywhizDir =
    request.keywhizDir !== undefined || request.defaults?.keywhizDir !== undefined ? keywhiz : undefined;
  if (problems.length > 0) throw new DataDirReconfigureRefused(problems.join('\n'));
  if (enrollmentsPath === undefined) {
    throw new DataDirReconfigureRefused(
      `${dataDir} remembers no enrollment registry: give one (--enrollments)`,
    );
  }
  // A command that serves no Keywhiz keeps the directory the data directory remembers for the next that does.
  const keptKeywhiz = keywhizDir ?? remembered?.keywhizDir;
  const next: DataDirSettings = {
    enrollmentsPath,
    ...(keptKeywhiz !== undefined ? { keywhizDir: keptKeywhiz } : {}),
  };
  if (next.enrollmentsPath !== remembered?.enrollmentsPath || next.keywhizDir !== remembered?.keywhizDir) {
    const path = settingsFileOf(dataDir);
    await writeFile(`${path}.partial`, `${JSON.stringify(next, null, 2)}\n`);
    await rename(`${path}.partial`, path);
  }
  return { enrollmentsPath, ...(keywhizDir !== undefined ? { keywhizDir } : {}) };
};

/** The settings a data directory remembers; undefined before its first use. */
export const readDataDirSettings = async (dataDir: string): Promise<Partial<DataDirSettings> | undefined> => {
  const path = settingsFileOf(dataDir);
  const text = await readIfPresent(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    (['enrollmentsPath', 'keywhizDir'] as const).every(
      (f) => fields[f] === undefined || typeof fields[f] === 'string',
    );
  if (!valid) {
    throw new Error(
      `${path} is not a data directory settings file: fix it, or delete it to have the next command remember ` +
        'the --enrollments and --keywhiz-dir it is given',
    );
  }
  return {
    ...(typeof fields.enrollmentsPath === 'string' ? { enrollmentsPath: fields.enrollmentsPath } : {}),
    ...(typeof fields.keywhizDir === 'string' ? { keywhizDir: fields.keywhizDir } : {}),
  };
};
