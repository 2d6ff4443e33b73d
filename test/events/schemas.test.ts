import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { AUDIT_SCHEMA_FILES, validateAuditEvent } from '../../events/schemas';
import {
  type AuditEvent,
  auditSourceOf,
  OPS_DETAIL_TYPES,
  SECRET_DETAIL_TYPES,
  SVID_DETAIL_TYPES,
} from '../../functions/shared/domain/audit';

const readJson = (path: string) =>
  JSON.parse(readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8'));
type Envelope = { source: string; 'detail-type': string; detail: Record<string, unknown> };
const sample = (file: string): Envelope => readJson(`samples/${file}.json`);
const samples = Object.entries(AUDIT_SCHEMA_FILES).map(([detailType, file]) => ({ detailType, file }));

/** An event as a rule target receives it, around the detail our code builds. */
const envelope = (event: AuditEvent) => ({
  version: '0',
  id: '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f',
  'detail-type': event.detailType,
  source: auditSourceOf(event.detailType),
  account: '000000000000',
  time: '2025-03-01T00:00:05Z',
  region: 'us-east-1',
  resources: [],
  detail: event.detail,
});

const subject = {
  eventId: 'run-1/prod/payments/x',
  runId: 'run-1',
  accountId: '111122223333',
  service: 'payments',
  environment: 'prod',
  spiffeId: 'spiffe://example.org/prod/payments',
  secretName: 'trust-bridge/svid/prod/payments',
};
const { eventId, runId, accountId, service, environment } = subject;
const syncSubject = { eventId, runId, accountId, service, environment };
const names = { keywhizName: 'db:password', secretName: 'trust-bridge/keywhiz/prod/payments/db+3Apassword' };
/** One event of each detail-type, typed by audit.ts: the schemas and the TypeScript types must agree. */
const typed: AuditEvent[] = [
  {
    detailType: SVID_DETAIL_TYPES.issued,
    detail: { ...subject, serial: '01ab', notAfter: '2025-03-02T00:00:00.000Z' },
  },
  {
    detailType: SVID_DETAIL_TYPES.skipped,
    detail: {
      ...subject,
      serial: '01ab',
      notAfter: '2025-03-02T00:00:00.000Z',
      reason: 'within-renewal-window',
    },
  },
  {
    detailType: SVID_DETAIL_TYPES.failed,
    detail: { ...subject, error: 'CaThrottled', message: 'throttled' },
  },
  {
    detailType: SVID_DETAIL_TYPES.deleted,
    detail: { ...subject, reason: 'enrollment-removed', deletionDate: '2025-03-08T00:00:00.000Z' },
  },
  {
    detailType: SVID_DETAIL_TYPES.retirementRefused,
    detail: {
      eventId,
      runId,
      reason: 'mass-retirement',
      count: 3,
      stored: 4,
      maxShare: 0.1,
      message: 'refused',
    },
  },
  {
    detailType: SECRET_DETAIL_TYPES.synced,
    detail: { ...syncSubject, ...names, checksum: 'abc', versionId: 'v-1', created: true },
  },
  { detailType: SECRET_DETAIL_TYPES.unchanged, detail: { ...syncSubject, count: 3 } },
  {
    detailType: SECRET_DETAIL_TYPES.deleted,
    detail: { ...syncSubject, ...names, deletionDate: '2025-03-08T00:00:00.000Z' },
  },
  { detailType: SECRET_DETAIL_TYPES.restored, detail: { ...syncSubject, ...names } },
  {
    detailType: SECRET_DETAIL_TYPES.refused,
    detail: { ...syncSubject, ...names, reason: 'older-than-stored', message: 'older' },
  },
  {
    detailType: SECRET_DETAIL_TYPES.failed,
    detail: { ...syncSubject, error: 'KeywhizUnavailable', message: 'down' },
  },
  {
    detailType: OPS_DETAIL_TYPES.replayed,
    detail: {
      eventId: 'e-1',
      originalExecutionArn: 'arn:aws:states:us-east-1:000000000000:execution:rotate-svids:run-1',
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:rotate-svids:run-1',
      stateMachineName: 'rotate-svids',
      mode: 'redrive',
      redriveCount: 1,
    },
  },
];

/** EventBridge matching for the patterns we ship: top-level fields, each a list of accepted values. */
const matches = (pattern: Record<string, string[]>, event: Envelope) =>
  Object.entries(pattern).every(([field, values]) => values.includes(String(event[field as keyof Envelope])));

describe('audit event schemas', () => {
  it('cover every detail-type of audit.ts', () => {
    expect(Object.keys(AUDIT_SCHEMA_FILES).sort()).toEqual(
      [
        ...Object.values(SVID_DETAIL_TYPES),
        ...Object.values(SECRET_DETAIL_TYPES),
        ...Object.values(OPS_DETAIL_TYPES),
      ].sort(),
    );
  });

  it.each(samples)('accept the sample $file event', ({ detailType, file }) => {
    const event = sample(file);
    expect(event['detail-type']).toBe(detailType);
    expect(validateAuditEvent(event)).toEqual([]);
  });

  it.each(typed)('accept a $detailType event built from the TypeScript type', (event) => {
    expect(validateAuditEvent(envelope(event))).toEqual([]);
  });

  it.each(samples)('reject a $file event missing any one required detail field', ({ file }) => {
    const event = sample(file);
    const required: string[] = readJson(`schemas/${file}.json`).properties.detail.required;
    expect(required.length).toBeGreaterThanOrEqual(5);
    for (const field of required) {
      const { [field]: _, ...rest } = event.detail;
      expect(validateAuditEvent({ ...event, detail: rest })).toEqual([
        `/detail must have required property '${field}'`,
      ]);
    }
  });

  it.each(samples)('reject a $file event carrying an extra detail field', ({ file }) => {
    const event = sample(file);
    const problems = validateAuditEvent({ ...event, detail: { ...event.detail, privateKey: 'x' } });
    expect(problems).toEqual(['/detail must NOT have additional properties (privateKey)']);
  });

  it.each([
    ['accountId', '1111'],
    ['spiffeId', 'https://example.org/prod/payments'],
    ['spiffeId', 'spiffe://Example.org/prod/payments'],
    ['notAfter', '2025-03-02'],
    ['service', '../etc'],
  ])('reject a malformed %s: %s', (field, value) => {
    const event = sample('svid-issued');
    const problems = validateAuditEvent({ ...event, detail: { ...event.detail, [field]: value } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^/detail/${field} must`));
  });

  it('reject another source or an unknown detail-type', () => {
    const event = sample('svid-issued');
    expect(validateAuditEvent({ ...event, source: 'someone.else' })).toEqual([
      '/source must be equal to constant',
    ]);
    expect(validateAuditEvent({ ...event, 'detail-type': 'SVID Stolen' })).toEqual([
      'detail-type "SVID Stolen" is not an audit detail-type',
    ]);
  });
});

describe('rule patterns', () => {
  const all = samples.map(({ file }) => sample(file));

  it('sync-failures matches failed and refused secret syncs only', () => {
    const pattern = readJson('patterns/sync-failures.json');
    expect(all.filter((e) => matches(pattern, e)).map((e) => e['detail-type'])).toEqual([
      SECRET_DETAIL_TYPES.refused,
      SECRET_DETAIL_TYPES.failed,
    ]);
  });

  it('all-secret-events matches every sync event and no SVID event', () => {
    const pattern = readJson('patterns/all-secret-events.json');
    expect(all.filter((e) => matches(pattern, e)).map((e) => e['detail-type'])).toEqual(
      Object.values(SECRET_DETAIL_TYPES),
    );
  });

  it('audit-failures matches failed and refused rotations only', () => {
    const pattern = readJson('patterns/audit-failures.json');
    expect(all.filter((e) => matches(pattern, e)).map((e) => e['detail-type'])).toEqual([
      SVID_DETAIL_TYPES.failed,
      SVID_DETAIL_TYPES.retirementRefused,
    ]);
  });

  it('execution-replays matches the operator replay events only', () => {
    const pattern = readJson('patterns/execution-replays.json');
    expect(all.filter((e) => matches(pattern, e)).map((e) => e['detail-type'])).toEqual([
      OPS_DETAIL_TYPES.replayed,
    ]);
  });

  it('all-svid-events matches every SVID event and nothing from another source', () => {
    const pattern = readJson('patterns/all-svid-events.json');
    expect(all.filter((e) => matches(pattern, e)).map((e) => e['detail-type'])).toEqual(
      Object.values(SVID_DETAIL_TYPES),
    );
    expect(matches(pattern, { ...all[0], source: 'aws.events' } as Envelope)).toBe(false);
  });
});
