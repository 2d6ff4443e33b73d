import { describe, expect, it } from '@jest/globals';
import { summarizeRotation } from '../../../functions/summarize-rotation/summarize-rotation';
import type { ChunkSummary } from '../../../functions/shared/domain/rotation';
import { keptReplayOf, replayInputOf } from '../../../functions/shared/domain/replay';
import type { RunFiles } from '../../../functions/shared/ports/run-files/run-files';

/** The run files as JSON text by key. */
const runFilesOf = (files: Map<string, string>): RunFiles => ({
  write: async (key, document) => {
    files.set(key, JSON.stringify(document));
    return { bucket: 'run-files', key };
  },
  read: async (key) => JSON.parse(files.get(key)!),
});

const accountsFrom = (first: number, count: number) =>
  Array.from({ length: count }, (_, i) => String(100_000_000_000 + first + i));

/** What a Map Run's ResultWriter leaves (Transformation NONE): a manifest, SUCCEEDED and FAILED files. */
const mapRunResults = (succeeded: ChunkSummary[], failedChunks: string[][]) => {
  const folder = 'rotate-svids/run-1/results/map-run-1';
  const files = new Map<string, string>([
    [`${folder}/SUCCEEDED_0.json`, JSON.stringify(succeeded.map((o) => ({ Output: JSON.stringify(o) })))],
    [
      `${folder}/FAILED_0.json`,
      JSON.stringify(failedChunks.map((accounts) => ({ Input: JSON.stringify({ chunk: { accounts } }) }))),
    ],
    [
      `${folder}/manifest.json`,
      JSON.stringify({
        ResultFiles: {
          SUCCEEDED: [{ Key: `${folder}/SUCCEEDED_0.json` }],
          FAILED: failedChunks.length > 0 ? [{ Key: `${folder}/FAILED_0.json` }] : [],
          PENDING: [],
        },
      }),
    ],
  ]);
  return { files, manifest: `${folder}/manifest.json` };
};

const summarize = (files: Map<string, string>, manifest: string) =>
  summarizeRotation({ runFiles: runFilesOf(files) })({
    runId: 'run-1',
    force: false,
    skipped: 3,
    results: manifest,
  });

describe('Summarize Rotation', () => {
  it("adds up the Map Run's chunks; an unfinished child's accounts all failed; the cause is the replay input", async () => {
    const { files, manifest } = mapRunResults(
      [
        { issued: 2, skipped: 1, deleted: 0, failed: 1, failedAccounts: ['100000000002'] },
        { issued: 3, skipped: 0, deleted: 1, failed: 0, failedAccounts: [] },
      ],
      [['100000000009', '100000000008']],
    );
    const summary = await summarize(files, manifest);
    expect(summary).toMatchObject({ issued: 5, skipped: 4, deleted: 1, failed: 3, error: 'AccountsFailed' });
    const replay = { accounts: ['100000000002', '100000000008', '100000000009'], force: false };
    expect(summary.replay).toEqual(replay);
    expect(replayInputOf(summary.cause)).toEqual(replay);
    expect([...files.keys()].filter((k) => k.endsWith('replay.json'))).toEqual([]);
  });

  it('keeps the failed accounts of a 100,000-account run in the run files, and the output and cause small', async () => {
    const chunks = Array.from({ length: 400 }, (_, c) => accountsFrom(c * 250, 250));
    const { files, manifest } = mapRunResults(
      chunks.slice(1).map((accounts) => ({
        issued: 0,
        skipped: 0,
        deleted: 0,
        failed: accounts.length,
        failedAccounts: accounts,
      })),
      [chunks[0]!],
    );
    const summary = await summarize(files, manifest);
    expect(summary.failed).toBe(100_000);
    expect(summary.replay).toBeUndefined();
    expect(summary.replayFile).toEqual({ bucket: 'run-files', key: 'rotate-svids/run-1/replay.json' });
    // The cause says where the input is kept, as JSON `trust-bridge replay` reads.
    expect(JSON.parse(summary.cause ?? '')).toEqual({
      replayFrom: { bucket: 'run-files', key: 'rotate-svids/run-1/replay.json' },
      failedAccounts: 100_000,
    });
    expect(keptReplayOf(summary.cause)).toEqual(JSON.parse(summary.cause ?? ''));
    expect(Buffer.byteLength(JSON.stringify(summary))).toBeLessThan(1024);
    expect(JSON.parse(files.get('rotate-svids/run-1/replay.json')!)).toEqual({
      accounts: chunks.flat().sort(),
      force: false,
    });
  });
});
