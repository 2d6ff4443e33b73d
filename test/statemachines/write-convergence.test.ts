import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { X509Certificate } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { validateAuditEvent } from '../../events/schemas';
import { probeAcmPca } from '../../bench/acm-pca-probe';
import { probeSecretsManager, type SecretsManagerOperation } from '../../bench/secrets-manager-probe';
import { enrollment, startLocalStack } from '../support/local-run';

/**
 * A rotation whose SVID write is cut off between two Secrets Manager calls (the process dies, or the Lambda
 * times out) is finished by the next run: exactly the policy and tags an uninterrupted write leaves, no new
 * certificate for an SVID that is still fresh, a new one only when due.
 */

const A = '111111111111';
const NAME = 'trust-bridge/svid/prod/payments';
const killed = () => Object.assign(new Error('the process died here'), { name: 'Killed' });

const start = async () => {
  const local = await startLocalStack([enrollment(A, 'payments')]);
  const { stack } = local;
  const sm = stack.services.secretsManager;
  const probe = probeSecretsManager(sm);
  const state = async () => {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: NAME }));
    const { ResourcePolicy } = await sm.send(new GetResourcePolicyCommand({ SecretId: NAME }));
    const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]));
    const leaf = new X509Certificate((await stack.deps.svids.read(NAME)).x509SVID);
    return {
      policy: ResourcePolicy,
      tags,
      versions: Object.keys(described.VersionIdsToStages ?? {}).length,
      certificate: {
        serial: leaf.serialNumber.toLowerCase(),
        notAfter: new Date(leaf.validTo).toISOString(),
      },
    };
  };
  const pca = probeAcmPca(stack.services.pca).calls;
  const issued = () => pca.IssueCertificate;
  const outcomes = async (runId: string) =>
    (await local.auditEvents(runId)).map((e) => {
      expect(validateAuditEvent(e)).toEqual([]);
      return [e['detail-type'], e.detail.repaired];
    });
  return { ...local, sm, probe, state, issued, outcomes };
};

/** What an uninterrupted first write leaves, on a stack of its own. */
const uninterrupted = async () => {
  const clean = await start();
  expect((await clean.stack.rotate()).status).toBe('SUCCEEDED');
  return clean.state();
};

const describesItsCertificate = (s: Awaited<ReturnType<Awaited<ReturnType<typeof start>>['state']>>) => {
  expect(s.tags['trust-bridge:serial']).toBe(s.certificate.serial);
  expect(s.tags['trust-bridge:not-after']).toBe(s.certificate.notAfter);
};

describe('an SVID write cut off between two calls, then the next run', () => {
  test.each<SecretsManagerOperation>(['PutResourcePolicy', 'TagResource'])(
    'first issuance cut before %s: the next run repairs it without a certificate; verify-level state is exact',
    async (cut) => {
      const reference = await uninterrupted();
      const { stack, probe, state, issued, outcomes } = await start();
      probe.failNext(cut, killed());
      expect((await stack.rotate()).status).toBe('FAILED');
      expect(issued()).toBe(1);
      const [svid] = await stack.deps.svids.listOwned();
      expect(svid?.committed).toBe(false);

      const rerun = await stack.rotate();
      expect(rerun.status).toBe('SUCCEEDED');
      expect(await outcomes(rerun.name)).toEqual([
        ['SVID Repaired', cut === 'PutResourcePolicy' ? ['policy', 'tags'] : ['tags']],
      ]);
      expect(issued()).toBe(1);
      const after = await state();
      expect(after.versions).toBe(1);
      expect(after.policy).toBe(reference.policy);
      describesItsCertificate(after);
      // The same tags as an uninterrupted write, but for the per-version one: the commit.
      const perVersion = ({ 'trust-bridge:committed': _c, ...rest }: Record<string, string | undefined>) =>
        rest;
      expect(perVersion(after.tags)).toEqual({
        ...perVersion(reference.tags),
        'trust-bridge:serial': after.certificate.serial,
        'trust-bridge:not-after': after.certificate.notAfter,
      });
      const commit = after.tags['trust-bridge:committed'];
      expect(commit).toMatch(/^[0-9a-f-]{36}\//);

      // Complete now: the run after that is a plain skip, one listing and nothing else.
      const calls = { ...probe.calls };
      const third = await stack.rotate();
      expect(await outcomes(third.name)).toEqual([['SVID Renewal Skipped', undefined]]);
      expect(probe.calls).toEqual({ ...calls, ListSecrets: (calls.ListSecrets ?? 0) + 1 });
    },
  );

  test('a renewal whose value landed but whose tags did not: the next run tags the new certificate, issuing none', async () => {
    const { stack, probe, state, issued, outcomes } = await start();
    await stack.rotate();
    const first = await state();
    // The value lands; the TagResource after it does not.
    probe.failNext('TagResource', killed());
    expect((await stack.rotate({ force: true })).status).toBe('FAILED');
    expect(issued()).toBe(2);
    const cut = await state();
    // The tags still name the first certificate while the second is current: before, this passed as fresh.
    expect(cut.tags['trust-bridge:serial']).toBe(first.certificate.serial);
    expect(cut.certificate.serial).not.toBe(first.certificate.serial);

    const rerun = await stack.rotate();
    expect(await outcomes(rerun.name)).toEqual([['SVID Repaired', ['tags']]]);
    expect(issued()).toBe(2);
    const after = await state();
    expect(after.versions).toBe(2);
    expect(after.policy).toBe(first.policy);
    describesItsCertificate(after);
    expect(after.certificate.serial).toBe(cut.certificate.serial);
  });

  const throttled = () =>
    new SecretsManagerServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });

  test('a throttled TagResource is retried within the run, which then ends issued and complete', async () => {
    const { stack, probe, state, issued, outcomes } = await start();
    probe.failNext('TagResource', throttled());
    const run = await stack.rotate();
    expect(run.status).toBe('SUCCEEDED');
    expect(await outcomes(run.name)).toEqual([['SVID Issued', undefined]]);
    expect(issued()).toBe(1);
    describesItsCertificate(await state());
    expect((await stack.deps.svids.listOwned())[0]?.committed).toBe(true);
  });

  test("a renewal from the plan's listing throttled after its value: run again without the listing, no second certificate", async () => {
    const { stack, probe, state, issued, outcomes } = await start();
    await stack.rotate();
    probe.failNext('TagResource', throttled());
    const calls = { ...probe.calls };
    const run = await stack.rotate({ force: true });
    expect(run.status).toBe('SUCCEEDED');
    expect(await outcomes(run.name)).toEqual([['SVID Issued', undefined]]);
    expect(issued()).toBe(2);
    // The second attempt described the secret and read back the version the first one stored.
    expect((probe.calls.DescribeSecret ?? 0) - (calls.DescribeSecret ?? 0)).toBe(1);
    expect((probe.calls.PutSecretValue ?? 0) - (calls.PutSecretValue ?? 0)).toBe(1);
    const after = await state();
    expect(after.versions).toBe(2);
    describesItsCertificate(after);
    expect((await stack.deps.svids.listOwned())[0]?.committed).toBe(true);
  });

  test('new reader roles reach the policy at the next run, without a certificate', async () => {
    const { stack, state, issued, outcomes, writeEnrollments } = await start();
    await stack.rotate();
    writeEnrollments([enrollment(A, 'payments', { readerRoles: ['payments-reader', 'payments-batch'] })]);
    const run = await stack.rotate();
    expect(await outcomes(run.name)).toEqual([['SVID Repaired', ['policy', 'tags']]]);
    expect(issued()).toBe(1);
    expect((await state()).policy).toContain(`arn:aws:iam::${A}:role/payments-batch`);
  });

  test('an unfinished SVID that is due (here: forced) gets a new certificate, not a repair', async () => {
    const { stack, probe, issued, outcomes } = await start();
    probe.failNext('TagResource', killed());
    await stack.rotate();
    const forced = await stack.rotate({ force: true });
    expect(await outcomes(forced.name)).toEqual([['SVID Issued', undefined]]);
    expect(issued()).toBe(2);
  });
});
