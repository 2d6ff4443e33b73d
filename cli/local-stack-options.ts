import { fileURLToPath } from 'node:url';
import {
  createLocalStack,
  DataDirInUse,
  DataDirReconfigureRefused,
  DEFAULT_FUNCTION_CONTAINERS,
  type LocalStack,
  type LocalStackOptions,
} from '../local-stack/stack';

export const DEFAULT_DATA_DIR = '.trust-bridge';
const DEFAULT_ENROLLMENTS = fileURLToPath(new URL('../samples/enrollments.yaml', import.meta.url));
export const DEFAULT_KEYWHIZ_DIR = fileURLToPath(new URL('../samples/keywhiz', import.meta.url));
/** Where `start --serve` receives webhooks, and where `notify` sends them, unless told otherwise. */
export const DEFAULT_WEBHOOK_PORT = 8787;
export const DEFAULT_WEBHOOK_URL = `http://127.0.0.1:${DEFAULT_WEBHOOK_PORT}/`;

/** The options of every command that runs the local stack (no default registry: the data directory's comes first). */
export const STACK_OPTIONS = {
  enrollments: { type: 'string' },
  'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
  reconfigure: { type: 'boolean', default: false },
} as const;

/** How the stack options read in every command's usage. */
export const STACK_OPTIONS_USAGE = `  --enrollments FILE   enrollment registry, YAML or JSON (default: the one the data directory was created with;
                       for a new one samples/enrollments.yaml)
  --data-dir DIR       where the local CA, secrets and audit log live (default: ${DEFAULT_DATA_DIR})
  --reconfigure        use the --enrollments (and --keywhiz-dir) given, though the data directory was created
                       with others, and remember them from now on`;

/** The options of every command that runs the local stack with its Keywhiz dev server. */
export const SYNC_STACK_OPTIONS = {
  ...STACK_OPTIONS,
  'keywhiz-dir': { type: 'string' },
} as const;

export const KEYWHIZ_DIR_USAGE = `  --keywhiz-dir DIR    the Keywhiz secrets to serve, <dir>/<service>/<secret-name> (default: the data
                       directory's; for a new one samples/keywhiz)`;

/** What SYNC_STACK_OPTIONS parse to, as the local stack takes it (the data directory's files unless given). */
export const syncStackOptions = (values: {
  'data-dir': string;
  enrollments?: string | undefined;
  'keywhiz-dir'?: string | undefined;
  reconfigure: boolean;
}) => ({
  dataDir: values['data-dir'],
  enrollmentsPath: values.enrollments,
  keywhizDir: values['keywhiz-dir'],
  defaults: { keywhizDir: DEFAULT_KEYWHIZ_DIR },
  reconfigure: values.reconfigure,
  env: envOf(process.env),
});

/**
 * Opens the local stack, or prints why not and gives the exit code: 2 when the data directory was created with
 * another registry or Keywhiz directory (a usage error), 1 when another process is writing it.
 */
export const openLocalStack = async (
  options: LocalStackOptions,
  usage: string,
): Promise<LocalStack | { exitCode: number }> => {
  try {
    return await createLocalStack({
      functionContainers: DEFAULT_FUNCTION_CONTAINERS,
      ...options,
      defaults: { enrollmentsPath: DEFAULT_ENROLLMENTS, ...options.defaults },
    });
  } catch (error) {
    if (error instanceof DataDirReconfigureRefused) {
      console.error(`${error.message}\n\n${usage}`);
      return { exitCode: 2 };
    }
    if (error instanceof DataDirInUse) {
      console.error(error.message);
      return { exitCode: 1 };
    }
    throw error;
  }
};

/** The request field of --allow-mass-retirement: given only when asked for, so other runs' inputs stay as they were. */
export const massRetirement = (allow: boolean | undefined) => (allow ? { allowMassRetirement: true } : {});

/** Only string values: the configuration schema reads what it knows and ignores the rest. */
export const envOf = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
