import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { benchMain } from '../../bench/main';
import { main } from '../../cli/main';
import { capturePrinted } from '../support/printed';

/** What a shell user relies on: exit 2 for a usage error, and quiet when the reader of a pipe goes away. */

const BIN = fileURLToPath(new URL('../../bin/trust-bridge.js', import.meta.url));

describe('a usage error exits 2, naming the problem', () => {
  const printed = capturePrinted();

  // executions and replay answer their parse errors themselves: they are run through the bin below, since their
  // `instanceof Error` check cannot see node's errors across jest's module realm.
  const commands = ['start', 'rotate', 'sync', 'notify', 'status', 'verify', 'publish-agent'];
  it.each(commands)('%s --no-such-option', async (command) => {
    expect(await main([...command.split(' '), '--no-such-option'])).toBe(2);
    expect(printed.join('\n')).toContain("Unknown option '--no-such-option'");
  });

  // The benchmarks' own command line keeps the convention.
  it.each(['', 'sync', 'init'])('bench %s --no-such-option', async (bench) => {
    expect(await benchMain([...(bench ? [bench] : []), '--no-such-option'])).toBe(2);
    expect(printed.join('\n')).toContain("Unknown option '--no-such-option'");
  });

  it('an option without its value, and an argument a command does not take', async () => {
    expect(await main(['rotate', '--data-dir'])).toBe(2);
    expect(printed.join('\n')).toContain("Option '--data-dir <value>' argument missing");
    expect(await main(['status', 'stray'])).toBe(2);
    expect(printed.join('\n')).toContain("Unexpected argument 'stray'");
  });
});

const run = async (args: string[], closeStdout = false) => {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader is gone before the command writes: its first write fails with EPIPE.
  if (closeStdout) child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
};

it('executions and replay exit 2 for an unknown option, through the bin', async () => {
  const results = await Promise.all([
    run(['executions', '--no-such-option']),
    run(['replay', '--no-such-option']),
  ]);
  for (const { code, stderr } of results) {
    expect(stderr).toContain("Unknown option '--no-such-option'");
    expect(code).toBe(2);
  }
}, 60_000);

describe('a closed pipe', () => {
  it('ends the command quietly, exit 0 and no stack trace (`trust-bridge help | head -0`)', async () => {
    const { code, stderr } = await run(['help'], true);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});
