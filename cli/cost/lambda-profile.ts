import { readFileSync } from 'node:fs';

/**
 * Each step's Lambda memory, as deployed (serverless.yml, and the onboarding template for the sync agent; a test
 * holds the two together), and the billed duration the cost model prices per invocation: the mean that the
 * quota-true simulation measured (cli/cost/simulated-durations.json, written by `bench aws --write`; INIT, API
 * latencies and PCA's issuance included), or, for the two steps it does not run, an assumption naming what it is
 * made of.
 */
const MEMORY_MB: Record<string, number> = {
  'plan-rotation': 512,
  'load-chunk': 256,
  'issue-svid': 512,
  'retire-svid': 256,
  'report-outcomes': 256,
  'summarize-rotation': 512,
  'plan-sync': 256,
  'load-sync-chunk': 256,
  'sync-agent': 256,
  'report-sync-outcomes': 256,
  'summarize-sync': 512,
  'receive-webhook': 256,
};

/** The steps the simulation's fleet never runs: no retirement, no webhook. */
const ASSUMED_MS: Record<string, { ms: number; why: string }> = {
  'retire-svid': { ms: 200, why: 'two Secrets Manager calls' },
  'receive-webhook': { ms: 100, why: 'a signature, a conditional put, one PutEvents' },
};

export const SIMULATED_DURATIONS = JSON.parse(
  readFileSync(new URL('./simulated-durations.json', import.meta.url), 'utf8'),
) as { measuredWith: string; accounts: number; meanBilledMs: Record<string, number> };

export const LAMBDA_PROFILE: Record<string, { memoryMb: number; billedMs: number; source: string }> =
  Object.fromEntries(
    Object.entries(MEMORY_MB).map(([step, memoryMb]) => {
      const simulated = SIMULATED_DURATIONS.meanBilledMs[step];
      const assumed = ASSUMED_MS[step];
      if (simulated === undefined && !assumed) throw new Error(`no billed duration for step ${step}`);
      return [
        step,
        simulated !== undefined
          ? { memoryMb, billedMs: simulated, source: 'simulated' }
          : { memoryMb, billedMs: assumed!.ms, source: `assumed: ${assumed!.why}` },
      ];
    }),
  );
