/**
 * Least privilege, proven with an offline IAM policy evaluator (@cloud-copilot/iam-simulate) over the policies AWS
 * would hold: the central stack as `osls package` generates it, the onboarding template rendered for each sample
 * account, and each SVID secret's resource policy as a real rotation run writes it. Every denial is paired with an
 * allowed request through the same policies, so a simulation that denies everything cannot pass.
 */
import { AUDIT_SOURCE, SECRETS_AUDIT_SOURCE } from '../../functions/shared/domain/audit';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { localConfig } from '../../local-stack/local-config';
import { parseEnrollments } from '../../functions/shared/domain/enrollment';
import { MANAGED_BY_TAG } from '../../functions/shared/aws/secrets-manager-calls';
import { MANAGED_BY_VALUE } from '../../functions/shared/domain/svid-secret';
import { readCloudFormationYaml } from '../support/cloudformation-yaml';
import {
  type AccessRequest,
  type Decision,
  decide,
  decideAssume,
  externalRole,
  type Role,
  roleOf,
} from '../support/iam-simulation';
import { resolveStack, type ResolvedStack } from '../support/intrinsics';
import { type IssuedSvid, issueSvids } from '../support/issued-svids';
import type { EnrollmentRecord } from '../support/local-run';
import { packageStack } from '../support/packaged-stack';

const CENTRAL = '999988887777';
const REGION = 'eu-west-1';
/** Enrolled nowhere: stands for any other AWS account. */
const STRANGER = '135791357913';

const samples = parseEnrollments(
  parse(readFileSync(fileURLToPath(new URL('../../samples/enrollments.yaml', import.meta.url)), 'utf8')),
  'samples/enrollments.yaml',
);
/** The samples, plus an identity-only service in a secrets account: its agent must not read that SVID. */
const records: EnrollmentRecord[] = [
  ...samples,
  {
    service: 'billing',
    environment: 'prod',
    accountId: '111122223333',
    identity: true,
    secrets: false,
    readerRoles: ['billing-reader'],
  },
];
const identityAccounts = [...new Set(records.filter((r) => r.identity).map((r) => r.accountId))].sort();
const secretsAccounts = [...new Set(records.filter((r) => r.secrets).map((r) => r.accountId))].sort();
const defaults = localConfig({});

const arnOf = {
  secret: (account: string, name: string) =>
    `arn:aws:secretsmanager:${REGION}:${account}:secret:${name}-AbC123`,
  role: (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`,
};
/** What a generous administrator of an account may do: everything its own policies allow is "*". */
const administrator = (account: string) =>
  externalRole(arnOf.role(account, 'administrator'), { Effect: 'Allow', Action: '*', Resource: '*' });

let central: ResolvedStack;
let svids: IssuedSvid[];
const onboarded = new Map<string, ResolvedStack>();

const onboarding = (account: string): ResolvedStack => {
  const stack = onboarded.get(account);
  if (!stack) throw new Error(`account ${account} is not onboarded in this test`);
  return stack;
};
const svidKeyArn = () => central.output('SvidKeyArn') as string;
const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };
const tagContext = (tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
const readSvid = (role: Role, svid: IssuedSvid): Promise<Decision> =>
  decide({
    role,
    action: 'secretsmanager:GetSecretValue',
    resource: svid.arn,
    resourcePolicy: svid.resourcePolicy,
    context: tagContext(svid.tags),
  });
/** The SVIDs `role` may read, by name. */
const readableSvids = async (role: Role): Promise<string[]> => {
  const decisions = await Promise.all(svids.map(async (s) => [s.name, await readSvid(role, s)] as const));
  return decisions.filter(([, d]) => d === 'Allowed').map(([name]) => name);
};
const svidOf = (service: string, environment: string): IssuedSvid => {
  const svid = svids.find((s) => s.service === service && s.environment === environment);
  if (!svid) throw new Error(`no SVID issued for ${environment}/${service}`);
  return svid;
};

beforeAll(async () => {
  const packaged = await packageStack({ readerAccountIds: identityAccounts.join(',') });
  central = resolveStack(packaged.template, { accountId: CENTRAL, region: REGION });
  const template = readCloudFormationYaml(
    fileURLToPath(new URL('../../infra/onboarding.yml', import.meta.url)),
  );
  for (const account of [...identityAccounts, STRANGER]) {
    onboarded.set(
      account,
      resolveStack(template, {
        accountId: account,
        region: REGION,
        parameters: {
          CentralAccountId: CENTRAL,
          SyncChunkRoleArn: central.output('SyncChunkRoleArn') as string,
          IssuerRoleArn: central.getAtt('IssueSvidRole', 'Arn') as string,
          SvidKeyArn: svidKeyArn(),
          AuditBusArn: central.output('AuditBusArn') as string,
          AgentCodeBucket: 'trust-bridge-artifacts',
          AgentCodeKey: 'sync-agent.zip',
          KeywhizUrl: 'https://keywhiz.example.org:4444',
        },
      }),
    );
  }
  svids = await issueSvids(records, {
    CENTRAL_ACCOUNT_ID: CENTRAL,
    AWS_REGION: REGION,
    ISSUER_ROLE_ARN: central.getAtt('IssueSvidRole', 'Arn') as string,
  });
}, 300_000);

describe('the simulation setup', () => {
  it('has an SVID for every identity enrollment, in the central account, each with a resource policy', () => {
    expect(svids.map((s) => `${s.environment}/${s.service}@${s.accountId}`).sort()).toEqual(
      records
        .filter((r) => r.identity)
        .map((r) => `${r.environment}/${r.service}@${r.accountId}`)
        .sort(),
    );
    for (const s of svids) {
      expect(s.arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${CENTRAL}:secret:`));
      expect(s.resourcePolicy).toMatchObject({ Statement: expect.any(Array) });
    }
  });

  it('fails loudly rather than deny when a request cannot be simulated', async () => {
    const role = administrator(STRANGER);
    await expect(
      decide({ role, action: 'secretsmanager:NoSuchAction', resource: svids[0]!.arn }),
    ).rejects.toThrow(/simulation of secretsmanager:NoSuchAction/);
  });
});

describe("an enrolled account's reader roles", () => {
  /** Even a reader role allowed every SVID by its own account's IAM is held to its own by the resource policy. */
  const generousReader = (account: string, name: string) =>
    externalRole(arnOf.role(account, name), {
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: `arn:aws:secretsmanager:${REGION}:${CENTRAL}:secret:${defaults.SVID_SECRET_PREFIX}*`,
    });

  it.each(records.filter((r) => r.identity && (r.readerRoles ?? []).length > 0))(
    'of $environment/$service read its SVID and no other',
    async (record) => {
      for (const name of record.readerRoles ?? []) {
        expect(await readableSvids(generousReader(record.accountId, name))).toEqual([
          svidOf(record.service, record.environment).name,
        ]);
      }
    },
  );

  it("are the only roles of their account that may read it, whatever that account's IAM allows", async () => {
    const payments = svidOf('payments', 'prod');
    expect(await readSvid(generousReader(payments.accountId, 'payments-api-lambda'), payments)).toBe(
      'Allowed',
    );
    expect(await readSvid(generousReader(payments.accountId, 'some-other-role'), payments)).toBe(
      'ExplicitlyDenied',
    );
    expect(await readSvid(administrator(payments.accountId), payments)).toBe('ExplicitlyDenied');
    expect(await readSvid(administrator(STRANGER), payments)).not.toBe('Allowed');
  });

  it('decrypt with the SVID key only through Secrets Manager, and only from a reader account', async () => {
    const decrypt = (role: Role, context: Record<string, string>) =>
      decide({
        role,
        action: 'kms:Decrypt',
        resource: svidKeyArn(),
        resourcePolicy: central.properties('SvidKey').KeyPolicy,
        context,
      });
    const reader = (account: string) =>
      externalRole(arnOf.role(account, 'reader'), {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: svidKeyArn(),
      });
    for (const account of identityAccounts) {
      expect(await decrypt(reader(account), viaSecretsManager)).toBe('Allowed');
      expect(await decrypt(reader(account), {})).not.toBe('Allowed');
    }
    expect(await decrypt(reader(STRANGER), viaSecretsManager)).not.toBe('Allowed');
  });
});

describe("each account's sync agent (onboarding template)", () => {
  const agent = (account: string) => roleOf(onboarding(account), 'SyncAgentRole');
  const prefix = defaults.SYNC_SECRET_PREFIX;
  const owned = { [MANAGED_BY_TAG]: MANAGED_BY_VALUE };

  it('is the role rotation names among the readers of secrets-enabled SVIDs', () => {
    for (const account of secretsAccounts) {
      expect(agent(account).arn).toBe(arnOf.role(account, defaults.SYNC_AGENT_ROLE_NAME));
    }
  });

  it.each(identityAccounts.map((a) => [a]))(
    'of %s reads exactly the SVIDs of its own secrets-enabled enrollments',
    async (account) => {
      const expected = records
        .filter((r) => r.accountId === account && r.identity && r.secrets)
        .map((r) => svidOf(r.service, r.environment).name);
      expect(await readableSvids(agent(account))).toEqual(expected);
    },
  );

  it('reads at least one SVID in each secrets account, so the denials above are not vacuous', async () => {
    for (const account of secretsAccounts) expect(await readableSvids(agent(account))).not.toEqual([]);
  });

  it('decrypts SVIDs with the central key through Secrets Manager only', async () => {
    for (const account of secretsAccounts) {
      const request = {
        role: agent(account),
        action: 'kms:Decrypt',
        resource: svidKeyArn(),
        resourcePolicy: central.properties('SvidKey').KeyPolicy,
      };
      expect(await decide({ ...request, context: viaSecretsManager })).toBe('Allowed');
      expect(await decide(request)).not.toBe('Allowed');
    }
    // A stranger's account is not among the key policy's reader accounts.
    expect(
      await decide({
        role: agent(STRANGER),
        action: 'kms:Decrypt',
        resource: svidKeyArn(),
        resourcePolicy: central.properties('SvidKey').KeyPolicy,
        context: viaSecretsManager,
      }),
    ).not.toBe('Allowed');
  });

  /** Every Secrets Manager call the agent's store makes, read from the store's own source. */
  const storeActions = [
    '../../functions/shared/ports/secret-store/secrets-manager-secret-store.ts',
    '../../functions/shared/aws/secrets-manager-calls.ts',
  ]
    .flatMap((path) => [
      ...readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8').matchAll(/new (\w+)Command\(/g),
    ])
    .map(([, name]) => `secretsmanager:${name}`)
    .filter((action, i, all) => all.indexOf(action) === i)
    .sort();

  const write = (
    account: string,
    action: string,
    secretAccount: string,
    name: string,
    tags: Record<string, string> = owned,
  ) =>
    decide({
      role: agent(account),
      action,
      resource: arnOf.secret(secretAccount, name),
      context: {
        ...tagContext(tags),
        ...(action === 'secretsmanager:CreateSecret' && {
          'secretsmanager:Name': name,
          ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
          'aws:TagKeys': Object.keys(tags),
        }),
      },
    });

  it('makes every call of its store on the secrets it owns under its prefix', async () => {
    expect(storeActions).toEqual(
      expect.arrayContaining([
        'secretsmanager:CreateSecret',
        'secretsmanager:PutSecretValue',
        'secretsmanager:DeleteSecret',
      ]),
    );
    for (const account of secretsAccounts) {
      for (const action of storeActions) {
        const decision =
          action === 'secretsmanager:ListSecrets'
            ? await decide({ role: agent(account), action, resource: '*' })
            : await write(account, action, account, `${prefix}prod/payments/db-password`);
        expect([action, decision]).toEqual([action, 'Allowed']);
      }
    }
  });

  it('writes no secret outside its prefix, none it does not own, and none in another account', async () => {
    const mutating = storeActions.filter(
      (a) => a !== 'secretsmanager:ListSecrets' && a !== 'secretsmanager:DescribeSecret',
    );
    for (const account of secretsAccounts) {
      const other = identityAccounts.find((a) => a !== account) as string;
      for (const action of mutating) {
        // Outside the prefix, even carrying the ownership tag.
        expect([action, await write(account, action, account, 'app/db-password')]).toEqual([
          action,
          'ImplicitlyDenied',
        ]);
        expect([action, await write(account, action, account, `trust-bridge/svid/prod/payments`)]).toEqual([
          action,
          'ImplicitlyDenied',
        ]);
        // Under the prefix in another account.
        expect([
          action,
          await write(account, action, other, `${prefix}prod/payments/db-password`),
        ]).not.toEqual([action, 'Allowed']);
        // Under its prefix, but created by someone else (no ownership tag).
        expect([
          action,
          await write(account, action, account, `${prefix}prod/payments/db-password`, {}),
        ]).toEqual([action, 'ImplicitlyDenied']);
      }
    }
  });

  /** The central bus's resource policy, if the central stack gives it one. */
  const auditBusPolicy = (): unknown => {
    const busName = central.ref('AuditBus');
    const policies = Object.entries(central.resources)
      .filter(([, type]) => type === 'AWS::Events::EventBusPolicy')
      .map(([id]) => central.properties(id))
      .filter((p) => (p.EventBusName ?? 'default') === busName);
    const statements = [
      ...[central.properties('AuditBus').Policy]
        .filter(Boolean)
        .flatMap((p) => (p as { Statement: unknown[] }).Statement),
      ...policies.flatMap((p) =>
        p.Statement ? [p.Statement] : (p.Policy as { Statement: unknown[] }).Statement,
      ),
    ];
    return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
  };

  // The central bus's policy admits the readerAccountIds' agent roles, for trust-bridge.secrets events only.
  it('publishes its audit events on the central bus across accounts (bus policy), and only those', async () => {
    const put = (role: ReturnType<typeof agent>, source: string) =>
      decide({
        role,
        action: 'events:PutEvents',
        resource: central.output('AuditBusArn') as string,
        resourcePolicy: auditBusPolicy(),
        context: { 'events:source': [source] },
      });
    for (const account of secretsAccounts) {
      expect(await put(agent(account), SECRETS_AUDIT_SOURCE)).toBe('Allowed');
      // Rotation's events are the central workflow's to emit, not an agent's.
      expect(await put(agent(account), AUDIT_SOURCE)).not.toBe('Allowed');
      // Nor may anyone else in that account, administrators included.
      expect(await put(administrator(account), SECRETS_AUDIT_SOURCE)).not.toBe('Allowed');
    }
  });

  it("reads no secret value in its own account but Keywhiz's CA, and not another account's CA", async () => {
    const caOf = (account: string) => onboarding(account).ref('KeywhizServerCaSecret') as string;
    const read = (account: string, resource: string) =>
      decide({ role: agent(account), action: 'secretsmanager:GetSecretValue', resource });
    for (const account of secretsAccounts) {
      const other = identityAccounts.find((a) => a !== account) as string;
      expect(await read(account, caOf(account))).toBe('Allowed');
      expect(await read(account, caOf(other))).not.toBe('Allowed');
      expect(await read(account, arnOf.secret(account, 'trust-bridge/keywhiz-server-ca-copy'))).toBe(
        'ImplicitlyDenied',
      );
      expect(
        await write(account, 'secretsmanager:GetSecretValue', account, `${prefix}prod/payments/db`),
      ).toBe('ImplicitlyDenied');
      // Nor may it change the CA it trusts.
      expect(
        await decide({
          role: agent(account),
          action: 'secretsmanager:PutSecretValue',
          resource: caOf(account),
        }),
      ).toBe('ImplicitlyDenied');
    }
  });
});

describe('the central functions and workflows', () => {
  const centralRoles = () =>
    Object.entries(central.resources)
      .filter(([, type]) => type === 'AWS::IAM::Role')
      .map(([id]) => [id, roleOf(central, id)] as const);
  const stateMachineRoles = () => centralRoles().filter(([id]) => id.endsWith('StateMachineRole'));

  it('has the four state machine roles and the webhook role to prove things about', () => {
    expect(
      stateMachineRoles()
        .map(([id]) => id)
        .sort(),
    ).toEqual([
      'RotateSvidsChunkStateMachineRole',
      'RotateSvidsStateMachineRole',
      'SyncSecretsChunkStateMachineRole',
      'SyncSecretsStateMachineRole',
    ]);
    expect(centralRoles().map(([id]) => id)).toContain('ReceiveWebhookRole');
  });

  it('the webhook function reads its signing key and no SVID', async () => {
    const webhook = roleOf(central, 'ReceiveWebhookRole');
    expect(
      await decide({
        role: webhook,
        action: 'secretsmanager:GetSecretValue',
        resource: central.ref('WebhookSigningKey') as string,
      }),
    ).toBe('Allowed');
    expect(await readableSvids(webhook)).toEqual([]);
  });

  it('of the central roles only the issuer reads an SVID value (a write cut off after its value is read back)', async () => {
    const all = svids.map((s) => s.name);
    for (const [id, role] of centralRoles()) {
      expect([id, await readableSvids(role)]).toEqual([id, id === 'IssueSvidRole' ? all : []]);
    }
  });

  it('no state machine role reads any secret value: SVIDs, the webhook key, synced secrets', async () => {
    const secrets = [
      central.ref('WebhookSigningKey') as string,
      ...secretsAccounts.map((a) => arnOf.secret(a, `${defaults.SYNC_SECRET_PREFIX}prod/payments/db`)),
    ];
    for (const [id, role] of stateMachineRoles()) {
      expect([id, await readableSvids(role)]).toEqual([id, []]);
      for (const resource of secrets) {
        const decision = await decide({ role, action: 'secretsmanager:GetSecretValue', resource });
        expect([id, resource, decision]).toEqual([id, resource, 'ImplicitlyDenied']);
      }
      // The same simulation allows what the role is for: invoking its own steps.
      const invokes = stateMachineFunctions(role);
      expect(invokes.length).toBeGreaterThan(0);
      for (const fn of invokes) {
        expect([id, fn, await decide({ role, action: 'lambda:InvokeFunction', resource: fn })]).toEqual([
          id,
          fn,
          'Allowed',
        ]);
      }
    }
  });
});

describe('the run files bucket', () => {
  const bucketArn = () => central.getAtt('RunFilesBucket', 'Arn') as string;
  const object = (key: string) => `${bucketArn()}/${key}`;
  const files = {
    'rotate chunks': 'rotate-svids/run-1/chunks.json',
    'rotate results': 'rotate-svids/run-1/results/0f2c/SUCCEEDED_0.json',
    'rotate replay': 'rotate-svids/run-1/replay.json',
    'sync chunks': 'sync-secrets/run-1/chunks.json',
    'sync results': 'sync-secrets/run-1/results/0f2c/manifest.json',
    'sync replay': 'sync-secrets/run-1/replay.json',
    'another key': 'notes/run-1.json',
  };
  /** Each role's reads and writes of the run files: `<file> <get|put>`. */
  const access = async (role: Role) => {
    const allowed: string[] = [];
    for (const [file, key] of Object.entries(files)) {
      for (const action of ['s3:GetObject', 's3:PutObject']) {
        const decision = await decide({ role, action, resource: object(key), resourceAccount: CENTRAL });
        if (decision === 'Allowed') allowed.push(`${file} ${action.slice('s3:'.length, -'Object'.length)}`);
      }
    }
    return allowed;
  };

  it('each role reads and writes only the run files its step or Distributed Map needs', async () => {
    const roles = Object.entries(central.resources).filter(([, type]) => type === 'AWS::IAM::Role');
    const granted: Record<string, string[]> = {};
    for (const [id] of roles) {
      const allowed = await access(roleOf(central, id));
      if (allowed.length > 0) granted[id] = allowed;
    }
    expect(granted).toEqual({
      // A plan reads its workflow's kept replay inputs: a replay too long for its input names one (replayFrom).
      PlanRotationRole: ['rotate chunks Put', 'rotate replay Get'],
      PlanSyncRole: ['sync chunks Put', 'sync replay Get'],
      RotateSvidsStateMachineRole: ['rotate chunks Get', 'rotate results Get', 'rotate results Put'],
      SummarizeRotationRole: ['rotate results Get', 'rotate replay Put'],
      SummarizeSyncRole: ['sync results Get', 'sync replay Put'],
      SyncSecretsStateMachineRole: ['sync chunks Get', 'sync results Get', 'sync results Put'],
    });
  });

  it('refuses every request without TLS, whatever the role may do', async () => {
    const policy = central.properties('RunFilesBucketPolicy').PolicyDocument;
    const role = roleOf(central, 'PlanRotationRole');
    const put = (secure: 'true' | 'false') =>
      decide({
        role,
        action: 's3:PutObject',
        resource: object(files['rotate chunks']),
        resourceAccount: CENTRAL,
        resourcePolicy: policy,
        context: { 'aws:SecureTransport': secure },
      });
    expect(await put('true')).toBe('Allowed');
    expect(await put('false')).toBe('ExplicitlyDenied');
  });

  it.each([
    ['RotateSvidsStateMachineRole', 'RotateSvidsStateMachine', 'SyncSecretsStateMachine'],
    ['SyncSecretsStateMachineRole', 'SyncSecretsStateMachine', 'RotateSvidsStateMachine'],
  ])('%s starts, waits on and stops its own Map Run children only', async (id, own, other) => {
    const role = roleOf(central, id);
    const machine = (m: string) => central.ref(m) as string;
    const child = (m: string) =>
      `${machine(m).replace(':stateMachine:', ':execution:')}/${m.startsWith('Rotate') ? 'RotateEachChunk' : 'SyncEachChunk'}:2b6d`;
    const decisions = async (m: string) => [
      await decide({ role, action: 'states:StartExecution', resource: machine(m) }),
      await decide({ role, action: 'states:DescribeExecution', resource: child(m) }),
      await decide({ role, action: 'states:StopExecution', resource: child(m) }),
    ];
    expect(await decisions(own)).toEqual(['Allowed', 'Allowed', 'Allowed']);
    expect(await decisions(other)).toEqual(['ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });
});

describe("each account's invoker role", () => {
  const invoker = (account: string) => roleOf(onboarding(account), 'SyncInvokerRole');
  const chunk = () => roleOf(central, 'SyncSecretsChunkStateMachineRole');

  it.each(secretsAccounts.map((a) => [a]))(
    'in %s may be assumed by the sync chunk workflow alone',
    async (account) => {
      expect(await decideAssume(chunk(), invoker(account))).toBe('Allowed');
      const others: [string, Role][] = [
        ...Object.entries(central.resources)
          .filter(([id, type]) => type === 'AWS::IAM::Role' && id !== 'SyncSecretsChunkStateMachineRole')
          .map(([id]) => [id, roleOf(central, id)] as [string, Role]),
        ['central administrator', administrator(CENTRAL)],
        ['own administrator', administrator(account)],
        ['own agent', roleOf(onboarding(account), 'SyncAgentRole')],
        ['stranger administrator', administrator(STRANGER)],
      ];
      for (const [name, role] of others) {
        expect([name, await decideAssume(role, invoker(account))]).toEqual([name, 'ImplicitlyDenied']);
      }
    },
  );

  it('invokes its own account’s agent and nothing else', async () => {
    for (const account of secretsAccounts) {
      const role = invoker(account);
      const agentArn = onboarding(account).getAtt('SyncAgentFunction', 'Arn') as string;
      const request = (action: string, resource: string): AccessRequest => ({ role, action, resource });
      expect(await decide(request('lambda:InvokeFunction', agentArn))).toBe('Allowed');
      expect(
        await decide(
          request('lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${account}:function:payments-api`),
        ),
      ).toBe('ImplicitlyDenied');
      const otherAgent = onboarding(STRANGER).getAtt('SyncAgentFunction', 'Arn') as string;
      expect(await decide(request('lambda:InvokeFunction', otherAgent))).not.toBe('Allowed');
      expect(await readableSvids(role)).toEqual([]);
      expect(
        await decide(
          request(
            'secretsmanager:GetSecretValue',
            arnOf.secret(account, `${defaults.SYNC_SECRET_PREFIX}prod/x`),
          ),
        ),
      ).toBe('ImplicitlyDenied');
    }
  });
});

/** The Lambda ARNs a state machine role's policies name for lambda:InvokeFunction. */
function stateMachineFunctions(role: Role): string[] {
  return role.identityPolicies.flatMap(({ policy }) =>
    (policy as { Statement: { Action: string | string[]; Resource: string | string[] }[] }).Statement.filter(
      (s) => [s.Action].flat().includes('lambda:InvokeFunction'),
    ).flatMap((s) => [s.Resource].flat()),
  );
}
