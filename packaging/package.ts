/**
 * `npm run package [-- --stage S --param=… --package DIR]`: every deployable artifact, offline. `osls package`
 * writes the central stack's template and one zip per function; the sync agent, which each enrolled account's
 * onboarding stack deploys, is bundled here alike (packaging/esbuild.config.cjs) into `<DIR>/syncAgent.zip`.
 * `trust-bridge publish-agent --aws` then puts that zip in the central stack's agent code bucket.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { ZipFile } from 'yazl';

const require = createRequire(import.meta.url);
const { esbuildOptions } = require('./esbuild.config.cjs') as { esbuildOptions: () => BuildOptions };

/** The agent's handler path inside its zip: what infra/onboarding.yml names as `Handler`. */
const AGENT_ENTRY = 'functions/sync-agent/handler';
const AGENT_ZIP = 'syncAgent.zip';

/** Bundles the sync agent as serverless-esbuild bundles the central functions, and zips it. */
async function packageSyncAgent(serviceDir: string, outDir: string): Promise<string> {
  const workDir = join(serviceDir, '.esbuild', 'sync-agent');
  const outfile = join(workDir, `${AGENT_ENTRY}.mjs`);
  await build({
    ...esbuildOptions(),
    absWorkingDir: serviceDir,
    entryPoints: [`${AGENT_ENTRY}.ts`],
    outfile,
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  const zipPath = join(outDir, AGENT_ZIP);
  const zip = new ZipFile();
  // A fixed date: the same sources give the same bytes, so the zip's digest names a build.
  const mtime = new Date('1980-01-01T00:00:00Z');
  for (const name of [`${AGENT_ENTRY}.mjs`, `${AGENT_ENTRY}.mjs.map`]) {
    zip.addBuffer(readFileSync(join(workDir, name)), name, { mtime, mode: 0o644 });
  }
  zip.end();
  await new Promise<void>((done, fail) => {
    zip.outputStream
      .pipe(createWriteStream(`${zipPath}.partial`))
      .on('close', done)
      .on('error', fail);
  });
  // Whole or not at all: publish-agent names a build by its digest, so a zip cut off by a crash must never stand.
  renameSync(`${zipPath}.partial`, zipPath);
  return zipPath;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { package: { type: 'string' } }, strict: false });
  const serviceDir = process.cwd();
  const outDir = resolve(serviceDir, typeof values.package === 'string' ? values.package : '.serverless');
  const osls = require.resolve('osls/bin/serverless.js');
  const withStage = argv.some((a) => a === '--stage' || a.startsWith('--stage='))
    ? argv
    : ['--stage', 'dev', ...argv];
  const packaged = spawnSync(process.execPath, [osls, 'package', ...withStage], { stdio: 'inherit' });
  if (packaged.status !== 0) return packaged.status ?? 1;
  const zip = await packageSyncAgent(serviceDir, outDir);
  console.log(`✔ Sync agent packaged (${zip})`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
