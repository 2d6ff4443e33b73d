import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { removeUnfinishedWrites, temporaryFile } from '../../../local-stack/stand-ins/unfinished-writes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'unfinished-writes-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What a worker thread started now finds as its process's incarnation. */
const incarnationInWorker = () =>
  new Promise<unknown>((resolve, reject) => {
    const worker = new Worker(
      `const { getEnvironmentData, parentPort } = require('node:worker_threads');
       parentPort.postMessage(getEnvironmentData('trust-bridge:writer-incarnation'));`,
      { eval: true },
    );
    worker.once('message', (value) => {
      resolve(value);
      void worker.terminate();
    });
    worker.once('error', reject);
  });

describe('unfinished writes', () => {
  it('leaves a live write of this process alone, whichever of its threads makes it', async () => {
    const live = temporaryFile(dir, 'record.json');
    writeFileSync(live, 'half');
    expect(removeUnfinishedWrites(dir)).toBe(0);
    expect(readdirSync(dir)).toEqual([basename(live)]);
    // A worker thread (a function container) names its files with the same incarnation.
    const incarnation = await incarnationInWorker();
    expect(basename(live)).toMatch(
      new RegExp(`^\\.record\\.json\\.${process.pid}\\.${String(incarnation)}[0-9a-f]{6}\\.tmp$`),
    );
  });

  it("removes one of this pid's earlier incarnation and of a process that is gone, and nothing else", () => {
    const names = [
      // This pid with another incarnation (ours is random): a killed predecessor's.
      `.a.json.${process.pid}.${'0'.repeat(12)}.tmp`,
      '.b.json.999999999.0123456789ab.tmp',
      'c.json',
      '.d.json.tmp',
    ];
    for (const name of names) writeFileSync(join(dir, name), 'x');
    expect(removeUnfinishedWrites(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['.d.json.tmp', 'c.json']);
  });
});
