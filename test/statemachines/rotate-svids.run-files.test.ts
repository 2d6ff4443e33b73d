/**
 * A run of 100,000 accounts: Plan Rotation writes the chunk orders to the run files' bucket (the S3 stand-in) and
 * 'Rotate Each Chunk', a Distributed Map, reads them there, so no payload carries them. Issue SVID is a stub here
 * (each account's outcome at once), which keeps the run to the fan-out itself: the plan, the Map Run, the chunk
 * executions, Report Outcomes and Summarize Rotation are the real ones, on the engine's AWS limits.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect, test } from '@jest/globals';
import { AWS_LIMITS, type TaskHandler } from '../../engine';
import type { ChunkOrder, Issuance, SvidOutcome } from '../../functions/shared/domain/rotation';
import { planRotation } from '../../functions/plan-rotation/plan-rotation';
import type { LocalStack } from '../../local-stack/stack';
import { enrollment, startLocalStack } from '../support/local-run';

const ACCOUNTS = 100_000;

/** Issue SVID's outcome for an account, without a key, a CA call or a write. */
const issuedAt = (item: Issuance): SvidOutcome => ({
  status: 'issued',
  accountId: item.accountId,
  service: item.service,
  environment: item.environment,
  spiffeId: `spiffe://example.org/${item.environment}/${item.service}`,
  secretName: `trust-bridge/svid/${item.environment}/${item.service}`,
  serial: '01',
  notAfter: '2030-01-01T00:00:00.000Z',
});

const objectText = async (stack: LocalStack, key: string) => {
  const object = await stack.services.s3.send(
    new GetObjectCommand({ Bucket: stack.config.RUN_FILES_BUCKET, Key: key }),
  );
  return { text: await object.Body!.transformToString(), etag: object.ETag };
};

test(`${ACCOUNTS.toLocaleString('en')} accounts are planned into S3 and fanned out by a Distributed Map, every payload small`, async () => {
  const records = Array.from({ length: ACCOUNTS }, (_, i) =>
    enrollment(String(100_000_000_000 + i), `service-${i}`, { readerRoles: ['app'] }),
  );
  /** The largest input or output each state saw, in bytes. */
  const largest = new Map<string, number>();
  const { stack } = await startLocalStack(records, {
    env: { ACCOUNT_CONCURRENCY: '40', CHUNK_CONCURRENCY: '40' },
    runStep: (step, handler) =>
      step === 'issue-svid' ? ((async (item: Issuance) => issuedAt(item)) as TaskHandler) : handler,
    onStatePayload: (state, _kind, payload) => {
      const bytes = Buffer.byteLength(JSON.stringify(payload ?? null));
      largest.set(state, Math.max(largest.get(state) ?? 0, bytes));
    },
  });
  try {
    const run = await stack.rotate();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ issued: ACCOUNTS, failed: 0, replay: { accounts: [] } });
    // The chunk orders of 100,000 accounts are about 2 MB; the run's own states carry where they are and counts.
    const runStates = ['Plan Rotation', 'Rotate Each Chunk', 'Summarize Rotation', 'Did Any Account Fail?'];
    const small = (state: string) => [state, (largest.get(state) ?? Infinity) < 1024];
    expect(runStates.map(small)).toEqual(runStates.map((state) => [state, true]));
    // A chunk's own states carry one chunk (CHUNK_SIZE accounts), whatever the fleet.
    expect(Math.max(...largest.values())).toBeLessThan(64 * 1024);

    const chunkCount = Math.ceil(ACCOUNTS / stack.config.CHUNK_SIZE);
    const executions = stack.engine.listExecutions();
    const mapRunChildren = executions.filter((e) => e.mapRunArn !== undefined);
    const chunks = executions.filter((e) => e.parentExecutionArn === run.executionArn);
    expect(mapRunChildren).toHaveLength(chunkCount);
    expect(chunks).toHaveLength(chunkCount);
    expect(executions).toHaveLength(1 + 2 * chunkCount);
    for (const execution of executions) {
      expect(execution.status).toBe('SUCCEEDED');
      expect(execution.historyEventCount).toBeLessThanOrEqual(AWS_LIMITS.historyEvents);
    }

    // The plan is in the run files: every account once, in chunks of CHUNK_SIZE.
    const plan = await objectText(stack, `rotate-svids/${run.name}/chunks.json`);
    const orders = JSON.parse(plan.text) as ChunkOrder[];
    expect(orders).toHaveLength(chunkCount);
    expect(new Set(orders.flatMap((o) => o.accounts)).size).toBe(ACCOUNTS);
    expect(Math.max(...orders.map((o) => o.accounts.length))).toBe(stack.config.CHUNK_SIZE);
    expect(Buffer.byteLength(plan.text)).toBeGreaterThan(AWS_LIMITS.payloadBytes);

    // A retry of Plan Rotation (same run, same registry and store) rewrites the same object with the same content.
    await planRotation(stack.deps)({ request: {}, runId: run.name, startedAt: run.startDate });
    expect(await objectText(stack, `rotate-svids/${run.name}/chunks.json`)).toEqual(plan);
  } finally {
    await stack.close();
  }
}, 600_000);
