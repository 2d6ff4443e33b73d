import { describe, expect, it } from '@jest/globals';
import { simulate } from '../../../bench/aws/aws-bench';

const caCalls = (apis: Record<string, { calls: number; throttled: number }>) => {
  const issue = apis['ACM PCA IssueCertificate'] ?? { calls: 0, throttled: 0 };
  const get = apis['ACM PCA GetCertificate'] ?? { calls: 0, throttled: 0 };
  return { calls: issue.calls + get.calls, throttled: issue.throttled + get.throttled };
};

describe('bench aws: the quota-true simulation', () => {
  // Small chunks, so 4 chunks of 10 accounts ask the CA at once, as a fleet's run does.
  const fleet = { CHUNK_SIZE: '10' };

  it('meets ACM PCA throttles when issuance is not paced: the quota is enforced and the SDK retries them', async () => {
    const [rotation] = await simulate(80, 0, 1, ['rotation'], { ...fleet, ISSUANCE_RATE: '1000' });
    const ca = caCalls(rotation!.apis);
    expect(rotation!.status).toBe('SUCCEEDED');
    expect(ca.throttled).toBeGreaterThan(0);
    expect(rotation!.apis['ACM PCA IssueCertificate']!.retries).toBeGreaterThan(0);
  }, 120_000);

  it('paced to ISSUANCE_RATE, a rotation keeps its CA throttles within 5 % and ends near the quota floor', async () => {
    const [rotation] = await simulate(80, 0, 1, ['rotation'], fleet);
    const ca = caCalls(rotation!.apis);
    expect(rotation!.status).toBe('SUCCEEDED');
    expect(rotation!.failedAccounts).toBe(0);
    expect(ca.throttled / ca.calls).toBeLessThanOrEqual(0.05);
    // 80 certificates at 23 a second, less PCA's burst, after a plan and a first chunk's cold starts.
    expect(rotation!.simulatedSeconds).toBeGreaterThanOrEqual(rotation!.boundSeconds);
    expect(rotation!.simulatedSeconds).toBeLessThan(15);
    expect(rotation!.lambda.coldStarts).toBeGreaterThan(0);
    expect(rotation!.lambda.gbSeconds).toBeGreaterThan(0);
  }, 120_000);

  it('runs a sync in simulated time: each agent lists Keywhiz once and the unchanged reconcile writes nothing', async () => {
    const [, first, unchanged] = await simulate(20, 3, 1, ['rotation', 'first sync', 'unchanged sync']);
    expect(first!.status).toBe('SUCCEEDED');
    expect(first!.keywhiz.lists).toBe(20);
    expect(first!.apis['Secrets Manager CreateSecret']!.calls).toBe(60);
    expect(unchanged!.status).toBe('SUCCEEDED');
    expect(unchanged!.apis['Secrets Manager CreateSecret']).toBeUndefined();
    expect(unchanged!.apis['Secrets Manager PutSecretValue']).toBeUndefined();
    expect(unchanged!.simulatedSeconds).toBeGreaterThan(0);
  }, 120_000);
});
