import { parseArgs } from 'node:util';
import { policyDigest } from '../functions/shared/ports/svid-store/secrets-manager-svid-store';
import type { StoredSvid } from '../functions/shared/domain/svid-secret';
import { type SvidCheck, verifyStoredSvid } from '../functions/shared/domain/svid-verification';
import { NEAR_EXPIRY_MS } from '../functions/shared/domain/svid-expiry';
import { type OpsCommandOptions, OPS_OPTIONS, OPS_OPTIONS_USAGE, openOpsStores } from './ops-options';

export const VERIFY_USAGE = `trust-bridge verify --account ID [options]
  Reads each SVID stored for the account and checks it as a function relies on it: the SPIFFE rules
  (exactly one URI SAN, equal to the secret's spiffeID and its tag, in the trust domain; leaf CA:false,
  key usage, extended key usage), the chain to the secret's bundle (signatures checked), that the private
  key matches the certificate, the expiry (a warning within 6 h), that its tags describe it, that its last
  write finished (the commit tag names the current version), and that its resource policy is the one written
  for it: only the account's reader roles and the issuer role may read it.
  Prints one line per check, never the key or a certificate. Exits 0 when every check passes (a warning
  still passes), 1 when any fails or the account has no SVID.
  With --aws, run it as a principal the SVID's resource policy lets read (the issuer role, or one of the
  account's reader roles): it denies everyone else, operators included.

  --account ID         the enrolled account (required)
  --trust-domain TD    the trust domain SVIDs are issued in (default: with --aws the stack's TrustDomain output,
                       else TRUST_DOMAIN, else example.org)
${OPS_OPTIONS_USAGE}`;

/** One SVID's verification (one record of --json). */
export interface SvidVerification {
  accountId: string;
  spiffeId: string;
  secretName: string;
  serial: string;
  ok: boolean;
  checks: SvidCheck[];
}

/** `trust-bridge verify`: checks every SVID stored for one account, one line per check. */
export const verifyCommand = async (
  argv: string[],
  print: (line: string) => void = console.log,
  options: OpsCommandOptions = {},
): Promise<number> => {
  const error = options.error ?? console.error;
  const { values } = parseArgs({
    args: argv,
    options: { ...OPS_OPTIONS, account: { type: 'string' }, 'trust-domain': { type: 'string' } },
    strict: true,
  });
  const opened = await openOpsStores(values, { usage: VERIFY_USAGE, accountRequired: true }, options);
  if ('exitCode' in opened) return opened.exitCode;
  const { stores, account } = opened;
  const now = (options.now ?? (() => new Date()))();
  const trustDomain = values['trust-domain'] ?? (await stores.trustDomain());

  const svids = (await stores.svids.listOwned())
    .filter((s) => s.accountId === account && s.deletedAt === undefined)
    .sort((a, b) => a.spiffeId.localeCompare(b.spiffeId));
  if (svids.length === 0) {
    error(
      `account ${account} has no SVID in ${stores.where}: not enrolled with identity, or not rotated yet`,
    );
    return 1;
  }
  const results: SvidVerification[] = [];
  for (const svid of svids) {
    let checks: SvidCheck[];
    try {
      const secret = await stores.svids.read(svid.arn);
      checks = await verifyStoredSvid(svid, secret, { trustDomain, now, warnWithinMs: NEAR_EXPIRY_MS });
      checks.push(commitCheck(svid), await policyCheck(svid, () => stores.svids.policy(svid.arn)));
    } catch (e) {
      // The store's errors name the secret and the reason, never its value.
      const { name, message } = e instanceof Error ? e : new Error(String(e));
      const hint = name === 'AccessDeniedException' ? ` (${READERS_ONLY})` : '';
      checks = [{ check: 'read', result: 'fail', detail: `${name}: ${message}${hint}` }];
    }
    const { accountId, spiffeId, secretName, serial } = svid;
    results.push({
      accountId,
      spiffeId,
      secretName,
      serial,
      ok: checks.every((c) => c.result !== 'fail'),
      checks,
    });
  }

  if (values.json) print(JSON.stringify(results, null, 2));
  else printVerifications(results, print);
  return results.every((r) => r.ok) ? 0 : 1;
};

const nextRotation = (svid: StoredSvid): string =>
  `the next rotation (locally: trust-bridge rotate --once --account ${svid.accountId})`;

/** A write cut off between two calls leaves tags or a policy that nothing vouches for. */
const commitCheck = (svid: StoredSvid): SvidCheck =>
  svid.committed
    ? {
        check: 'write complete',
        result: 'pass',
        detail: 'the commit tag names the current version and these tags',
      }
    : {
        check: 'write complete',
        result: 'fail',
        detail:
          'the last write did not finish: the commit tag does not name the current version and its tags ' +
          `(cut off between two calls, or changed since); ${nextRotation(svid)} repairs it`,
      };

/**
 * The stored policy is the one whose digest the tags record, and it lets only roles of the SVID's account and one
 * other role (the issuer) read the value.
 */
const policyCheck = async (svid: StoredSvid, read: () => Promise<string | undefined>): Promise<SvidCheck> => {
  const check = 'resource policy';
  let policy: string | undefined;
  try {
    policy = await read();
  } catch (e) {
    const { name, message } = e instanceof Error ? e : new Error(String(e));
    return { check, result: 'warn', detail: `not checked: ${name}: ${message}` };
  }
  const rerun = `${nextRotation(svid)} writes it`;
  if (policy === undefined) {
    return {
      check,
      result: 'fail',
      detail: `none: any principal the account's IAM allows may read it; ${rerun}`,
    };
  }
  if (policyDigest(policy) !== svid.readersDigest) {
    return {
      check,
      result: 'fail',
      detail: `not the policy written for it (its digest is not the readers-digest tag); ${rerun}`,
    };
  }
  const exempt = denyExemptions(policy);
  const accountRole = new RegExp(`^arn:[\\w-]+:iam::${svid.accountId}:role/`);
  const readers = (exempt ?? []).filter((arn) => accountRole.test(arn));
  const others = (exempt ?? []).filter((arn) => !accountRole.test(arn));
  if (!exempt || others.length !== 1) {
    return {
      check,
      result: 'fail',
      detail: `it does not deny every principal but the account's reader roles and the issuer; ${rerun}`,
    };
  }
  const names = readers.map((arn) => arn.slice(arn.indexOf(':role/') + ':role/'.length));
  return {
    check,
    result: 'pass',
    detail: `only ${names.length > 0 ? names.join(', ') : 'no reader role'} of ${svid.accountId} and the issuer ${others[0]} may read it`,
  };
};

/** The principals the policy's Deny of GetSecretValue to everyone leaves out; undefined without such a Deny. */
const denyExemptions = (policy: string): string[] | undefined => {
  type Statement = {
    Effect?: unknown;
    Principal?: unknown;
    Condition?: { ArnNotEquals?: Record<string, unknown> };
  };
  let statements: Statement[];
  try {
    const parsed = JSON.parse(policy) as { Statement?: unknown };
    statements = Array.isArray(parsed.Statement) ? (parsed.Statement as Statement[]) : [];
  } catch {
    return undefined;
  }
  const deny = statements.find((s) => s.Effect === 'Deny' && s.Principal === '*');
  const exempt = deny?.Condition?.ArnNotEquals?.['aws:PrincipalArn'];
  return Array.isArray(exempt) && exempt.every((a) => typeof a === 'string') ? exempt : undefined;
};

const READERS_ONLY =
  "an SVID's resource policy lets only its account's reader roles and the issuer role read it: " +
  'pass --profile for one of them';

const LABEL = { pass: 'pass', warn: 'WARN', fail: 'FAIL' } as const;

const printVerifications = (results: SvidVerification[], print: (line: string) => void) => {
  for (const r of results) {
    print(`${r.spiffeId} (${r.secretName}, serial ${r.serial})`);
    const width = Math.max(...r.checks.map((c) => c.check.length));
    for (const c of r.checks) print(`  ${LABEL[c.result]}  ${c.check.padEnd(width)}  ${c.detail}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  const warned = results.filter((r) => r.checks.some((c) => c.result === 'warn')).length;
  print(
    `\n${results.length - failed} of ${results.length} SVIDs pass every check` +
      (warned > 0 ? ` (${warned} with a warning)` : '') +
      (failed > 0 ? `; ${failed} FAIL` : ''),
  );
};
