import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createLocalStack } from '../../local-stack/stack';

/** Opening the local stack over a data directory: what it holds, and what it gives back when opening fails. */

const SAMPLE_KEYWHIZ = fileURLToPath(new URL('../../samples/keywhiz', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'trust-bridge-data-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = (name: string) => {
  const dir = join(root, name);
  const enrollmentsPath = join(root, `${name}.json`);
  writeFileSync(enrollmentsPath, JSON.stringify({ enrollments: [] }));
  return { dataDir: join(dir, 'data'), enrollmentsPath };
};

/** Resolves with the error code of a TCP connection to the URL's port (none: it was accepted). */
const connectError = (url: string) =>
  new Promise<string | undefined>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.on('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });

describe('opening the local stack', () => {
  it('when a step after the Keywhiz dev server fails, closes the server and gives the data directory up', async () => {
    const { dataDir, enrollmentsPath } = fresh('fails');
    let keywhizUrl = '';
    await expect(
      createLocalStack({
        dataDir,
        enrollmentsPath,
        keywhizDir: SAMPLE_KEYWHIZ,
        decorate: (deps) => {
          keywhizUrl = deps.config.KEYWHIZ_URL;
          throw new Error('a later step failed');
        },
      }),
    ).rejects.toThrow('a later step failed');
    expect(keywhizUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+/);
    expect(await connectError(keywhizUrl)).toBe('ECONNREFUSED');
    expect(existsSync(join(dataDir, 'writer.lock'))).toBe(false);

    const stack = await createLocalStack({ dataDir, enrollmentsPath });
    await stack.close();
  });

  it('refuses a lock file trust-bridge did not write, naming it and what to do', async () => {
    const { dataDir, enrollmentsPath } = fresh('foreign-lock');
    const stack = await createLocalStack({ dataDir, enrollmentsPath });
    await stack.close();
    writeFileSync(join(dataDir, 'writer.lock'), 'not a lock');
    await expect(createLocalStack({ dataDir, enrollmentsPath })).rejects.toThrow(
      `${join(dataDir, 'writer.lock')} is not a lock trust-bridge wrote: if no trust-bridge process uses that data directory, delete it`,
    );
  });

  it('refuses a settings file that is not one, naming it', async () => {
    const { dataDir, enrollmentsPath } = fresh('bad-settings');
    const stack = await createLocalStack({ dataDir, enrollmentsPath });
    await stack.close();
    writeFileSync(join(dataDir, 'settings.json'), '{ torn');
    await expect(createLocalStack({ dataDir, enrollmentsPath })).rejects.toThrow(
      `${join(dataDir, 'settings.json')} is not a data directory settings file`,
    );
    expect(existsSync(join(dataDir, 'writer.lock'))).toBe(false);
  });
});
