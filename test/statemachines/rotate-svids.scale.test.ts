import { expect, test } from '@jest/globals';
import { AWS_LIMITS } from '../../engine';
import { enrollment, startLocalStack } from '../support/local-run';

const ACCOUNTS = 10_000;

test(`${ACCOUNTS.toLocaleString('en')} accounts rotate in one run, each execution within AWS's payload and history limits`, async () => {
  const records = Array.from({ length: ACCOUNTS }, (_, i) =>
    enrollment(String(100_000_000_000 + i), `service-${i}`, { readerRoles: ['app'] }),
  );
  const { stack } = await startLocalStack(records, { env: { ACCOUNT_CONCURRENCY: '40' } });
  // The engine runs with AWS's limits: a payload over 256 KB or a history over 25,000 events fails the run.
  expect(AWS_LIMITS).toEqual({ payloadBytes: 262_144, historyEvents: 25_000, mapConcurrency: 40 });

  const run = await stack.rotate();
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({ issued: ACCOUNTS, failed: 0 });

  const executions = stack.engine.listExecutions();
  const chunks = executions.filter((e) => e.parentExecutionArn === run.executionArn);
  expect(chunks).toHaveLength(Math.ceil(ACCOUNTS / stack.config.CHUNK_SIZE));
  for (const execution of executions) {
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.historyEventCount).toBeLessThanOrEqual(AWS_LIMITS.historyEvents);
  }
  expect((await stack.deps.svids.listOwned()).length).toBe(ACCOUNTS);
}, 240_000);
