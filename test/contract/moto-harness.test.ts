/** The harness itself: the run's moto_server answers, and one moto account never sees another's state. */
import {
  CreateSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, test } from '@jest/globals';
import { inMotoAccount, motoClientConfig, motoEndpoint, uniqueMotoAccountId } from '../support/moto';

describe('moto harness', () => {
  test('the endpoint is the local server, never AWS', () => {
    expect(motoEndpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('a secret created in one moto account is not listed in another', async () => {
    const [a, b] = [uniqueMotoAccountId(), uniqueMotoAccountId()];
    const inA = inMotoAccount(new SecretsManagerClient(motoClientConfig()), a);
    const inB = inMotoAccount(new SecretsManagerClient(motoClientConfig()), b);
    const created = await inA.send(new CreateSecretCommand({ Name: 'harness/only-in-a', SecretString: 'x' }));
    expect(created.ARN).toContain(`:${a}:secret:harness/only-in-a-`);
    const listedA = await inA.send(new ListSecretsCommand({}));
    const listedB = await inB.send(new ListSecretsCommand({}));
    expect(listedA.SecretList?.map((s) => s.Name)).toEqual(['harness/only-in-a']);
    expect(listedB.SecretList).toEqual([]);
  });
});
