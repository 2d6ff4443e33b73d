/**
 * The two backends every contract case runs against: the local stand-in (local-stack/stand-ins/) and moto, the
 * AWS API emulator, through the real SDK client. Each case opens a fresh backend: a new data directory for the
 * stand-in, a new moto account for moto (moto's state is global to the server, which the parallel jest workers
 * share, so an account of its own is what keeps one case from seeing another's secrets, buses or tables).
 *
 * Where moto departs from AWS's documented behaviour, a case asserts AWS's behaviour on the stand-in and moto's
 * own on moto, through `awsOrMotoGap` and a gap named in MOTO_GAPS: the departure stays visible, and a moto
 * upgrade that closes it fails the case, so the gap gets struck off rather than forgotten.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inMotoAccount, motoClientConfig, uniqueMotoAccountId } from '../support/moto';

export type BackendKind = 'stand-in' | 'moto';

/** The region of every contract case, on both backends (not moto's default, so ARNs are checked for it). */
export const CONTRACT_REGION = 'eu-west-1';

export interface Backend<C> {
  kind: BackendKind;
  client: C;
  accountId: string;
  region: string;
  /** The stand-in's data directory (undefined on moto). */
  dataDir?: string;
  close(): Promise<void>;
}

export interface BackendChoice<C> {
  /** The title in `describe.each`: `'$name'`. */
  name: string;
  kind: BackendKind;
  open(): Promise<Backend<C>>;
}

/**
 * The pair of backends for one service: the stand-in made over a fresh data directory, and the SDK client
 * against moto in a fresh moto account.
 */
export function backendPair<C, M extends C & Parameters<typeof inMotoAccount>[0]>(
  standIn: { name: string; make(options: { dataDir: string; accountId: string; region: string }): C },
  moto: { make(config: ReturnType<typeof motoClientConfig>): M },
): [BackendChoice<C>, BackendChoice<C>] {
  return [
    {
      name: standIn.name,
      kind: 'stand-in',
      async open() {
        const accountId = uniqueMotoAccountId();
        const dataDir = await mkdtemp(join(tmpdir(), 'contract-'));
        return {
          kind: 'stand-in',
          client: standIn.make({ dataDir, accountId, region: CONTRACT_REGION }),
          accountId,
          region: CONTRACT_REGION,
          dataDir,
          close: () => rm(dataDir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'moto',
      kind: 'moto',
      async open() {
        const accountId = uniqueMotoAccountId();
        const client = inMotoAccount(moto.make(motoClientConfig({ region: CONTRACT_REGION })), accountId);
        return {
          kind: 'moto',
          client,
          accountId,
          region: CONTRACT_REGION,
          close: async () => (client as { destroy?: () => void }).destroy?.(),
        };
      },
    },
  ];
}

/**
 * Where moto 5.2.1 departs from what AWS documents. Each case that meets one names it; the README's contract
 * section lists them.
 */
export const MOTO_GAPS = {
  'secretsmanager.create-over-pending-deletion':
    'CreateSecret on a name scheduled for deletion answers ResourceExistsException; AWS documents InvalidRequestException ("the secret is scheduled for deletion")',
  'secretsmanager.put-value-on-pending-deletion':
    'PutSecretValue on a secret scheduled for deletion adds a version; AWS refuses it with InvalidRequestException',
  'secretsmanager.deleted-date':
    "DescribeSecret/ListSecrets DeletedDate is the end of the recovery window; AWS's SecretListEntry.DeletedDate is when the deletion was requested (DeleteSecret's DeletionDate is that plus RecoveryWindowInDays)",
  'secretsmanager.deprecated-versions-listed':
    'VersionIdsToStages keeps versions with no staging label (as []); AWS lists only versions that have staging labels attached',
  'secretsmanager.current-after-stage-move':
    'GetSecretValue without VersionStage or VersionId still returns the version AWSCURRENT was on before UpdateSecretVersionStage moved it (moto reads its own default_version_id, which only PutSecretValue moves); AWS returns the AWSCURRENT version',
  'secretsmanager.block-public-policy':
    'PutResourcePolicy ignores BlockPublicPolicy (moto says so in its source); AWS answers PublicPolicyException for a policy granting broad access',
  'secretsmanager.malformed-policy':
    'PutResourcePolicy stores any text; AWS answers MalformedPolicyDocumentException for a policy that is not valid JSON',
  'events.put-to-missing-bus':
    "PutEvents naming a bus that does not exist fails the whole call with ResourceNotFoundException; AWS's API reference lists no such error (PutEvents fails per entry), and AWS accepts such an entry with an EventId and drops the event (aws/aws-cli#9186, aws/aws-sdk#186)",
  'dynamodb.conditional-put-race':
    "read from moto's source, not seen in a trial: a conditional PutItem reads the item, parses the condition and then writes, with no lock, on moto_server's threaded server, so concurrent conditional puts of one key could both succeed; AWS applies a condition and its write atomically",
  'acmpca.passthrough-template-ignored':
    "IssueCertificate with EndEntityCertificate_APIPassthrough/V1 adds none of the template's extensions (basic constraints, key usage, extended key usage) and copies the CSR's SAN; AWS takes the SAN from ApiPassthrough and the profile from the template",
  'acmpca.validity-ignored':
    'IssueCertificate ignores Validity and ValidityNotBefore: every certificate runs from now for 365 days; AWS issues for the validity asked',
  'acmpca.signing-algorithm-ignored':
    "IssueCertificate ignores SigningAlgorithm (and the CA's KeyAlgorithm): moto signs with its own RSA key and SHA-512; AWS signs with the algorithm asked, which must suit the CA key",
  'acmpca.idempotency-token-ignored':
    'IssueCertificate ignores IdempotencyToken: a retry issues a second certificate; AWS answers the same certificate for the same token within 5 minutes',
  'acmpca.malformed-csr-500':
    'IssueCertificate with a CSR that does not parse fails with HTTP 500 (an unhandled ValueError); AWS answers MalformedCSRException',
  'acmpca.unknown-certificate-500':
    'GetCertificate of a certificate ARN the CA never issued fails with HTTP 500 (an unhandled KeyError); AWS answers ResourceNotFoundException',
} as const;

export type MotoGap = keyof typeof MOTO_GAPS;

/** AWS's documented value on the stand-in; moto's own value on moto, where `gap` says moto departs. */
export function awsOrMotoGap<T>(kind: BackendKind, _gap: MotoGap, expected: { aws: T; moto: T }): T {
  return kind === 'moto' ? expected.moto : expected.aws;
}
