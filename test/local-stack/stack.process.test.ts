import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { main } from '../../cli/main';
import { decodeSpireSvidSecret } from '../../client/spiffe/spire-secret';
import { SVID_TAG } from '../../functions/shared/domain/svid-secret';
import { LocalSecretsManager } from '../../local-stack/stand-ins/secrets-manager/local-secrets-manager';

/**
 * The local stack as a process: the CLI run as `npm start` runs it, in child processes over one data directory
 * (killed, run twice at once, over damaged files, with another registry than the one that built the directory).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/trust-bridge.js');
const SAMPLE_KEYWHIZ = join(ROOT, 'samples/keywhiz');
const CENTRAL = '000000000000';
/** A command that has not ended by then is taken to hang. */
const HANG_MS = 60_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  output: () => string;
  ended: Promise<Ended>;
}

const launch = (args: string[]): Running => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<Ended>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`trust-bridge ${args.join(' ')} hung (no exit in ${HANG_MS} ms):\n${stdout}\n${stderr}`),
      );
    }, HANG_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' may come before the pipes are drained; 'close' has all of the output.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
  return { child, output: () => stdout + stderr, ended };
};

const cli = (...args: string[]): Promise<Ended> => launch(args).ended;

const until = async (what: string, predicate: () => boolean, timeoutMs = HANG_MS) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'trust-bridge-process-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh data directory and an enrollment file of `accounts` accounts, each with an SVID. */
const fixture = (name: string, accounts: number) => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const enrollments = join(dir, 'enrollments.json');
  const records = Array.from({ length: accounts }, (_, i) => ({
    service: `svc-${i}`,
    environment: 'prod',
    accountId: String(100_000_000_000 + i),
    identity: true,
    readerRoles: ['app'],
  }));
  writeFileSync(enrollments, JSON.stringify({ enrollments: records }));
  return { dataDir: join(dir, 'data'), enrollments, accounts };
};

/**
 * Every stored SVID, and what is wrong with it: a resource policy missing, or tags that are not its
 * certificate's (a lost or interleaved write).
 */
const svidProblems = async (dataDir: string) => {
  const store = new LocalSecretsManager({ dataDir, accountId: CENTRAL });
  const names: string[] = [];
  let next: string | undefined;
  do {
    const page = (await store.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'tag-key', Values: [SVID_TAG.managedBy] }],
        ...(next ? { NextToken: next } : {}),
      }),
    )) as { SecretList?: { Name?: string }[]; NextToken?: string };
    names.push(...(page.SecretList ?? []).map((s) => s.Name ?? ''));
    next = page.NextToken;
  } while (next);
  const problems: string[] = [];
  for (const name of names) {
    const value = (await store.send(new GetSecretValueCommand({ SecretId: name }))) as {
      SecretBinary?: Uint8Array;
    };
    const leaf = new X509Certificate(decodeSpireSvidSecret(value.SecretBinary ?? new Uint8Array()).x509SVID);
    const { Tags: tags = [] } = (await store.send(new DescribeSecretCommand({ SecretId: name }))) as {
      Tags?: { Key: string; Value: string }[];
    };
    const tag = (key: string) => tags.find((t) => t.Key === key)?.Value;
    if (tag(SVID_TAG.serial) !== leaf.serialNumber.toLowerCase()) problems.push(`${name}: serial tag`);
    if (tag(SVID_TAG.notAfter) !== new Date(leaf.validTo).toISOString())
      problems.push(`${name}: not-after tag`);
    const policy = (await store.send(new GetResourcePolicyCommand({ SecretId: name }))) as {
      ResourcePolicy?: string;
    };
    if (!policy.ResourcePolicy) problems.push(`${name}: no resource policy`);
  }
  return { svids: names.length, problems };
};

/** The data directory's execution records of one state machine, as written. */
const records = (dataDir: string, machine: string): { name: string; status: string }[] => {
  const dir = join(dataDir, 'executions', machine);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; status: string }];
      } catch {
        return []; // being renamed into place
      }
    });
};

/** The pid of a process that has ended. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid ?? 0;
};

const inUse = (pid: number | undefined) => new RegExp(`is in use by process ${pid} `);

describe('a run whose process is killed', () => {
  it('leaves a record that reads as ABORTED after it; executions lists it and replay --failed re-runs it', async () => {
    const { dataDir, enrollments, accounts } = fixture('killed', 150);
    const run = launch(['rotate', '--once', '--data-dir', dataDir, '--enrollments', enrollments]);
    await until('a chunk of the rotation to run', () =>
      records(dataDir, 'rotate-svids-chunk').some((r) => r.status === 'RUNNING'),
    );
    run.child.kill('SIGKILL');
    expect((await run.ended).signal).toBe('SIGKILL');
    // Its lock is left behind, naming a pid that is gone: the replay below takes the directory over.
    expect(existsSync(join(dataDir, 'writer.lock'))).toBe(true);
    const [rotation] = records(dataDir, 'rotate-svids');
    expect(rotation?.status).toBe('RUNNING');

    const listed = await cli('executions', '--data-dir', dataDir, '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: rotation?.name, status: 'ABORTED', error: 'ProcessDied' }),
    ]);
    // No --enrollments: the registry the data directory was created with.
    const replayed = await cli('replay', '--failed', '--data-dir', dataDir, '--json');
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual([
      expect.objectContaining({ original: rotation?.name, action: 'redrive', status: 'SUCCEEDED' }),
    ]);
    const after = await cli('executions', '--data-dir', dataDir, '--json');
    expect(JSON.parse(after.stdout)).toEqual([
      expect.objectContaining({ name: rotation?.name, status: 'SUCCEEDED', redriveCount: 1 }),
    ]);
    expect(await svidProblems(dataDir)).toEqual({ svids: accounts, problems: [] });
  }, 300_000);
});

describe('two processes on one data directory', () => {
  it('a second writer is refused naming the holder, readers still read, and the next writer runs after it', async () => {
    const { dataDir, enrollments } = fixture('serve', 3);
    const serve = launch([
      'start',
      '--serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--enrollments',
      enrollments,
      '--keywhiz-dir',
      SAMPLE_KEYWHIZ,
    ]);
    try {
      await until('the receiver to listen', () => serve.output().includes('webhook receiver:'));
      const second = await cli('rotate', '--once', '--data-dir', dataDir);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(inUse(serve.child.pid));
      expect((await cli('executions', '--data-dir', dataDir)).code).toBe(0);
      expect((await cli('status', '--data-dir', dataDir)).code).toBe(0);
    } finally {
      serve.child.kill('SIGINT');
    }
    expect((await serve.ended).code).toBe(0);
    expect(existsSync(join(dataDir, 'writer.lock'))).toBe(false);
    expect((await cli('rotate', '--once', '--data-dir', dataDir)).code).toBe(0);
  }, 300_000);

  it('two rotations started at once end with 0 lost writes and 0 stale tags', async () => {
    const { dataDir, enrollments, accounts } = fixture('twice', 40);
    // Both find the lock of a process that died: exactly one may take it over.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, 'writer.lock'),
      JSON.stringify({ pid: await deadPid(), token: 'dead', since: '' }),
    );
    const both = [1, 2].map(() =>
      launch(['rotate', '--once', '--force', '--data-dir', dataDir, '--enrollments', enrollments]),
    );
    const ended = await Promise.all(both.map((r) => r.ended));
    ended.forEach((e, i) => {
      // Each ran alone, or was refused while the other held the directory.
      if (e.code !== 0) expect(e.stderr).toMatch(inUse(both[1 - i]?.child.pid));
    });
    expect(ended.map((e) => e.code).sort()).toEqual(expect.arrayContaining([0]));
    expect(await svidProblems(dataDir)).toEqual({ svids: accounts, problems: [] });
  }, 300_000);
});

describe('damaged files of a data directory', () => {
  let dataDir: string;
  beforeAll(async () => {
    const made = fixture('damaged', 2);
    dataDir = made.dataDir;
    expect(
      (await cli('rotate', '--once', '--data-dir', dataDir, '--enrollments', made.enrollments)).code,
    ).toBe(0);
  }, 120_000);

  it('a garbled execution record is skipped with a warning that names it; start runs and exits', async () => {
    const garbled = join(dataDir, 'executions', 'rotate-svids', 'garbled.json');
    writeFileSync(garbled, '{ not json');
    const started = await cli('start', '--once', '--data-dir', dataDir);
    expect(started.stderr).toContain(`warning: ${garbled} is not an execution record (not JSON): skipped`);
    expect(started.code).toBe(0);
    rmSync(garbled);
  }, 120_000);

  it('a garbled webhook key fails start with an error that names its file, and the process exits', async () => {
    const key = join(
      dataDir,
      'secretsmanager',
      CENTRAL,
      `${encodeURIComponent('trust-bridge/webhook-signing-key')}.json`,
    );
    writeFileSync(key, '{ garbled');
    const started = await cli('start', '--once', '--data-dir', dataDir);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain(key);
    expect(existsSync(join(dataDir, 'writer.lock'))).toBe(false);
  }, 120_000);
});

describe('a data directory remembers the registry it was created with', () => {
  let printed: string[];
  const run = async (...argv: string[]) => {
    printed = [];
    const capture = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
    const log = jest.spyOn(console, 'log').mockImplementation(capture);
    const error = jest.spyOn(console, 'error').mockImplementation(capture);
    try {
      return await main(argv);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
  const summary = () =>
    printed.join('\n').match(/\((\d+ issued, \d+ skipped, \d+ deleted), \d+ failed\)/)?.[1];

  it('uses it when none is given, refuses another naming both files, and takes one with --reconfigure', async () => {
    const { dataDir, enrollments } = fixture('remembers', 3);
    expect(await run('rotate', '--once', '--data-dir', dataDir, '--enrollments', enrollments)).toBe(0);
    // As `npm start -- --data-dir DIR`: the sample registry would retire every SVID here.
    expect(await run('start', '--once', '--data-dir', dataDir)).toBe(0);
    expect(summary()).toBe('0 issued, 3 skipped, 0 deleted');

    const samples = join(ROOT, 'samples/enrollments.yaml');
    expect(await run('rotate', '--once', '--data-dir', dataDir, '--enrollments', samples)).toBe(2);
    expect(printed.join('\n')).toContain(
      `--enrollments ${samples}: ${dataDir} was created with the enrollment registry ${enrollments}.`,
    );
    expect(printed.join('\n')).toContain('--reconfigure');
    expect(summary()).toBeUndefined();

    const grown = join(root, 'remembers', 'grown.json');
    const { enrollments: records } = JSON.parse(readFileSync(enrollments, 'utf8')) as {
      enrollments: object[];
    };
    writeFileSync(
      grown,
      JSON.stringify({
        enrollments: [...records, { ...records[0], service: 'svc-new', accountId: '100000000099' }],
      }),
    );
    expect(
      await run('rotate', '--once', '--data-dir', dataDir, '--enrollments', grown, '--reconfigure'),
    ).toBe(0);
    expect(summary()).toBe('1 issued, 3 skipped, 0 deleted');
    expect(await run('rotate', '--once', '--data-dir', dataDir)).toBe(0);
    expect(summary()).toBe('0 issued, 4 skipped, 0 deleted');
  }, 120_000);
});
