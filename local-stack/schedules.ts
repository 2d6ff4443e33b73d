import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const SERVERLESS_YML = fileURLToPath(new URL('../serverless.yml', import.meta.url));
const STAGE_PREFIX = /^trust-bridge-\$\{sls:stage\}-/;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** A state machine's EventBridge schedule, as serverless.yml deploys it. */
export interface DeployedSchedule {
  /** The state machine's local name, e.g. `rotate-svids`. */
  machine: string;
  /** The schedule expression after `${param:…}` defaults are applied, e.g. `rate(12 hours)`. */
  expression: string;
  /** The period of a `rate()` expression; undefined for `cron()`, which the local runtime does not evaluate. */
  everyMs?: number;
}

interface ServerlessYml {
  params?: { default?: Record<string, unknown> };
  stepFunctions?: {
    stateMachines?: Record<string, { name?: string; events?: { schedule?: { rate?: string } }[] }>;
  };
}

/** `rate(1 hour)`, `rate(30 minutes)`: its period in ms; undefined for anything else. */
export const ratePeriodMs = (expression: string): number | undefined => {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  if (!match) return undefined;
  const period = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return period > 0 ? period : undefined;
};

/**
 * The schedules serverless.yml gives each state machine, read from the file itself so the local runtime keeps
 * the deployed cadence (machine names there are `trust-bridge-${sls:stage}-<machine>`).
 */
export const deployedSchedules = (path: string = SERVERLESS_YML): DeployedSchedule[] => {
  // CloudFormation tags (!Ref, !GetAtt) are irrelevant here; `logLevel: error` keeps them from warning.
  const yml = parse(readFileSync(path, 'utf8'), { logLevel: 'error' }) as ServerlessYml;
  const params = yml.params?.default ?? {};
  const withParams = (text: string) =>
    text.replace(/\$\{param:([\w-]+)\}/g, (whole, name: string) => String(params[name] ?? whole));
  return Object.values(yml.stepFunctions?.stateMachines ?? {}).flatMap((machine) => {
    const name = (machine.name ?? '').replace(STAGE_PREFIX, '');
    return (machine.events ?? []).flatMap(({ schedule }) => {
      if (!name || !schedule?.rate) return [];
      const expression = withParams(schedule.rate);
      const everyMs = ratePeriodMs(expression);
      return [{ machine: name, expression, ...(everyMs !== undefined ? { everyMs } : {}) }];
    });
  });
};
