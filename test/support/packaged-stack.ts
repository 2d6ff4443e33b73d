/**
 * `npm run package` (packaging/package.ts: `osls package` of serverless.yml, then the sync agent's zip), offline: no AWS credentials, and TCP/DNS refused in every Node process osls
 * starts. Each packaging runs in a service directory of its own (links to the project's files), so that test files
 * packaging in parallel never share `.esbuild/` or `.serverless/`. Memoized per test file and per set of params.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll } from '@jest/globals';

export type Json = unknown;
export type CfnResource = {
  Type: string;
  Properties: Record<string, Json>;
  DependsOn?: string | string[];
  Condition?: string;
};
export type CfnStatement = {
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, Json>>;
};
export type CfnTemplate = {
  Parameters?: Record<
    string,
    { Type: string; Default?: Json; AllowedPattern?: string; AllowedValues?: string[]; Description?: string }
  >;
  Conditions?: Record<string, Json>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { Value: Json; Condition?: string }>;
};
export type PackagedStack = {
  template: CfnTemplate;
  /** The package directory: the template and one zip per function, the sync agent's (syncAgent.zip) included. */
  dir: string;
  /** The template's path, for tools that read files. */
  templatePath: string;
};

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');

// Loaded into every Node process osls starts: any TCP connection or DNS lookup throws, so a passing package
// proves it needs no network. Unix-socket and pipe IPC (esbuild's service) stay allowed.
const offlineGuard = `
import dns from 'node:dns';
import net from 'node:net';
const refuse = () => { throw new Error('network access is disabled in the deploy test'); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'number' || (first && first.port !== undefined)) refuse();
  return connect.apply(this, args);
};
dns.lookup = refuse;
dns.promises.lookup = refuse;
`;
const nodeOptions = `--import=data:text/javascript;base64,${Buffer.from(offlineGuard).toString('base64')}`;

/** No credentials, no profile, an empty HOME: nothing for osls or the AWS SDK to find or prompt for. */
export function offlineEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, NODE_OPTIONS: nodeOptions };
}

/**
 * Build output and local state of the project: never linked into a packaging directory. serverless.yml is copied
 * instead, since osls does not take a linked config file for a service directory.
 */
const notLinked = new Set([
  '.git',
  '.serverless',
  '.esbuild',
  '.scratch',
  '.trust-bridge',
  'coverage',
  'serverless.yml',
]);

const workDirs: string[] = [];
// Jest gives each test file its own copy of this module, so each file that imports it removes its own packages
// when it ends (jest does not emit the process's 'exit' to test code).
afterAll(() => {
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function packageOnce(params: Record<string, string>): Promise<PackagedStack> {
  const workDir = mkdtempSync(join(tmpdir(), 'trust-bridge-package-'));
  workDirs.push(workDir);
  const service = join(workDir, 'service');
  mkdirSync(service);
  for (const entry of readdirSync(root)) {
    if (!notLinked.has(entry)) symlinkSync(join(root, entry), join(service, entry));
  }
  copyFileSync(join(root, 'serverless.yml'), join(service, 'serverless.yml'));
  const dir = join(workDir, 'package');
  const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
  await run(
    process.execPath,
    [tsx, 'packaging/package.ts', '--stage', 'ci', '--package', dir, ...paramArgs],
    {
      cwd: service,
      env: offlineEnv(workDir),
      timeout: 150_000,
    },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    // osls prints the reason on its output, not in the exit status.
    throw new Error(`npm run package failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`, {
      cause: error,
    });
  });
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  const template = JSON.parse(await readFile(templatePath, 'utf8')) as CfnTemplate;
  return { template, dir, templatePath };
}

const packaged = new Map<string, Promise<PackagedStack>>();

/**
 * The stack as `osls package --stage ci` makes it, with the given `--param` overrides (none: the defaults).
 * Rejects with osls's output when packaging fails.
 */
export function packageStack(params: Record<string, string> = {}): Promise<PackagedStack> {
  const key = JSON.stringify(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));
  let stack = packaged.get(key);
  if (!stack) {
    stack = packageOnce(params);
    packaged.set(key, stack);
  }
  return stack;
}
