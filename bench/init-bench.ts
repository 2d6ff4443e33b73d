/**
 * `bench init`: the cold-start cost of each packaged function. Packages every artifact as
 * `npm run package` does (or reads `--artifacts DIR`), unzips each zip into a directory of its own with no
 * node_modules, and imports its handler in five fresh `node` processes, with source maps off and on
 * (NODE_OPTIONS=--enable-source-maps, as the stack deploys them), under the variables its settings schema names.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import type { SettingName } from '../functions/shared/config';
import { LOCAL_ENV } from '../local-stack/stack';
import { unzipHandler } from '../packaging/zip-reader';
import { markdownTable } from './rotation-bench';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { esbuildOptions } = createRequire(import.meta.url)('../packaging/esbuild.config.cjs') as {
  esbuildOptions: () => BuildOptions;
};
const RUNS = 5;
const TARGET_MS = 100;
const WEBHOOK_TARGET_MS = 50;
const TARGET_BYTES = 1.5 * 1024 * 1024;

interface InitFigures {
  zip: string;
  handler: string;
  bundleBytes: number;
  mapBytes: number;
  medianMs: number;
  medianMsWithMaps: number;
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** The local stand-ins' value for each variable the function's schema declares: enough to pass its checks. */
const environmentOf = async (folder: string): Promise<Record<string, string>> => {
  const step = (await import(join(ROOT, 'functions', folder, `${folder}.ts`))) as {
    settings?: { shape: object };
  };
  const names = Object.keys(step.settings?.shape ?? {}) as SettingName[];
  return Object.fromEntries(names.flatMap((n) => (LOCAL_ENV[n] !== undefined ? [[n, LOCAL_ENV[n]]] : [])));
};

const IMPORT_TIMER =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

const importMs = (handler: string, env: Record<string, string>, cwd: string): number => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_TIMER, handler], {
    cwd,
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`importing ${handler} failed:\n${result.stderr}`);
  return Number(result.stdout);
};

async function measure(zipPath: string, workDir: string): Promise<InitFigures> {
  const name = zipPath
    .split('/')
    .pop()!
    .replace(/\.zip$/, '');
  const dir = join(workDir, name);
  const handler = await unzipHandler(zipPath, dir);
  const folder = basename(dirname(handler));
  const env = await environmentOf(folder);
  const runs = (nodeOptions: string) =>
    median(Array.from({ length: RUNS }, () => importMs(handler, { ...env, NODE_OPTIONS: nodeOptions }, dir)));
  return {
    zip: name,
    handler: `functions/${folder}/handler.mjs`,
    bundleBytes: statSync(handler).size,
    mapBytes: statSync(`${handler}.map`).size,
    medianMs: runs(''),
    medianMsWithMaps: runs('--enable-source-maps'),
  };
}

/**
 * What this machine takes for the least a function can be, built with the functions' own esbuild options: an
 * empty module, and one SDK client alone. They place the targets: a function that calls AWS cannot import in less
 * than the second.
 */
const FLOORS: Record<string, string> = {
  'an empty module': '',
  'one SecretsManagerClient, nothing else':
    "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; export const client = new SecretsManagerClient({});",
};

async function measureFloors(workDir: string): Promise<[string, number][]> {
  return Promise.all(
    Object.entries(FLOORS).map(async ([name, contents], i): Promise<[string, number]> => {
      const outfile = join(workDir, 'floors', String(i), 'handler.mjs');
      await build({
        ...esbuildOptions(),
        sourcemap: false,
        stdin: { contents, resolveDir: ROOT, loader: 'ts' },
        outfile,
        logLevel: 'error',
      });
      return [name, median(Array.from({ length: RUNS }, () => importMs(outfile, {}, dirname(outfile))))];
    }),
  );
}

export async function initBenchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { artifacts: { type: 'string' } } });
  const workDir = mkdtempSync(join(tmpdir(), 'trust-bridge-init-bench-'));
  try {
    let artifacts = values.artifacts;
    if (artifacts === undefined) {
      artifacts = join(workDir, 'package');
      const packaged = spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
          'packaging/package.ts',
          '--stage',
          'bench',
          '--package',
          artifacts,
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      if (packaged.status !== 0) throw new Error('npm run package failed');
    }
    const zips = readdirSync(artifacts)
      .filter((f) => f.endsWith('.zip'))
      .sort();
    const figures: InitFigures[] = [];
    for (const zip of zips) figures.push(await measure(join(artifacts, zip), join(workDir, 'unzipped')));
    const kb = (bytes: number) => (bytes / 1024).toFixed(0);
    console.log(
      markdownTable(
        ['function', 'bundle KB', 'bundle + map KB', 'init ms (maps off)', 'init ms (maps on)', 'target'],
        figures.map((f) => {
          const targetMs = f.zip === 'receiveWebhook' ? WEBHOOK_TARGET_MS : TARGET_MS;
          const met = f.medianMs <= targetMs && f.bundleBytes <= TARGET_BYTES;
          return [
            f.zip,
            kb(f.bundleBytes),
            kb(f.bundleBytes + f.mapBytes),
            f.medianMs.toFixed(1),
            f.medianMsWithMaps.toFixed(1),
            `≤ ${targetMs} ms, ≤ 1.5 MB: ${met ? 'met' : 'MISSED'}`,
          ];
        }),
      ),
    );
    const floors = await measureFloors(workDir);
    console.log(
      `\nFloors on this machine, built alike: ${floors.map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`).join('; ')}.`,
    );
    console.log(
      `(median of ${RUNS} imports, each in a fresh node ${process.version} process, no node_modules)`,
    );
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
