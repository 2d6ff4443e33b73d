// The benchmarks' command line, apart from the shipped CLI: `node --import tsx bench/main.ts [bench] [options]`
// from the repository's root (npm run bench, npm run chaos). Each bench reruns this command line in child
// processes (process.argv), so each has a name of its own.
import '../engine/polyfills';
import { pathToFileURL } from 'node:url';

const BENCHES = {
  sync: async () => (await import('./sync-bench')).syncBenchCommand,
  init: async () => (await import('./init-bench')).initBenchCommand,
  chaos: async () => (await import('./chaos-bench')).chaosBenchCommand,
  burst: async () => (await import('./burst-bench')).burstBenchCommand,
  fuzz: async () => (await import('./webhook-fuzz')).fuzzBenchCommand,
  counts: async () => (await import('./counts-bench')).countsBenchCommand,
  aws: async () => (await import('./aws/aws-bench')).awsBenchCommand,
};

const BENCH_USAGE = `usage: node --import tsx bench/main.ts [bench] [options]

benches:
  (none)      rotation of 1,000 and 10,000 accounts on the embedded default (--accounts N, repeatable)
  sync        a reconcile of 10,000 unchanged secrets in 100 accounts, and webhook latency
  init        each packaged function's bundle size and cold-start import time (--artifacts DIR)
  chaos       seeded faults (throttles, 5xx, timeouts) and SIGKILLs; rotation and sync must converge
  burst       signed webhook deliveries at 20 a second for 60 s, synced within 5 s
  fuzz        seeded bad, stale, oversized and stalled webhook requests; none may be accepted
  counts      AWS calls per unit of work (a renewal, a reconcile, a changed secret, a targeted sync), as JSON:
              what \`trust-bridge cost\` prices (--accounts N, --secrets-per-account M, --write FILE)
  aws         the quota-true simulation: the real state machines against AWS's default quotas and latencies, in
              simulated time (--accounts N, repeatable; --quotas prints what it assumes)`;

/** Runs one benchmark; its exit code (2 for a usage error). */
export const benchMain = async (argv: string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === 'help' || name === '--help') {
    console.log(BENCH_USAGE);
    return 0;
  }
  const named = name !== undefined && name in BENCHES;
  try {
    if (named) return await (await BENCHES[name as keyof typeof BENCHES]())(rest);
    return await (await import('./rotation-bench')).benchCommand(argv);
  } catch (error) {
    // node:util's parseArgs names an unknown option, a missing value or a stray argument with these codes.
    if (!String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw error;
    console.error(`bench${named ? ` ${name}` : ''}: ${(error as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await benchMain(process.argv.slice(2));
}
