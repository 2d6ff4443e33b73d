/**
 * Runs a packaged Lambda function as Lambda would: its zip unzipped into a directory of its own (no
 * node_modules anywhere above it), its handler imported and invoked in a fresh `node` process with only the
 * environment it is given, so what runs is exactly what deploys.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipHandler } from '../../packaging/zip-reader';

export interface PackagedFunction {
  /** The unzipped handler module. */
  handler: string;
  /** The unzipped directory, the process's working directory. */
  dir: string;
}

export async function unzipFunction(zip: string): Promise<PackagedFunction> {
  const dir = mkdtempSync(join(tmpdir(), 'trust-bridge-lambda-'));
  return { dir, handler: await unzipHandler(zip, dir) };
}

/** What one invocation gave: the handler's result, or the error that failed init or the call. */
export type Invocation =
  | { ok: true; result: unknown; logs: string }
  | { ok: false; error: { name: string; message: string }; logs: string };

const INVOKE = `
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { event, context } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
// The answer goes to fd 3: stdout is the function's log, as on Lambda.
const { writeSync } = await import('node:fs');
const answer = (value) => writeSync(3, JSON.stringify(value));
try {
  const { handler } = await import(process.argv[1]);
  answer({ ok: true, result: await handler(event, context) });
} catch (error) {
  answer({ ok: false, error: { name: error?.name ?? 'Error', message: error?.message ?? String(error) } });
}`;

/** A Lambda context as the runtime passes it (what Powertools' logger reads). */
export const lambdaContext = (functionName: string, accountId: string, region: string) => ({
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'test',
});

/** Imports the handler in a fresh process with `env` alone (and PATH) and invokes it once with `event`. */
export function invoke(
  fn: PackagedFunction,
  env: Record<string, string>,
  event: unknown,
  context: object,
): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', INVOKE, fn.handler], {
      cwd: fn.dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let logs = '';
    let answer = '';
    child.stdout?.on('data', (c: Buffer) => (logs += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (logs += c.toString('utf8')));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (answer += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve({ ...(JSON.parse(answer) as Invocation), logs });
      } catch {
        reject(new Error(`the handler process gave no answer:\n${logs}`));
      }
    });
    child.stdin?.end(JSON.stringify({ event, context }));
  });
}
