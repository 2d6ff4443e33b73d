import { describe, expect, it } from '@jest/globals';
import { parseEnrollments } from '../../../../functions/shared/domain/enrollment';
import { InvalidEnrollment } from '../../../../functions/shared/domain/errors';

const record = (fields: Record<string, unknown> = {}) => ({
  service: 'payments',
  environment: 'prod',
  accountId: '111122223333',
  ...fields,
});

/** The InvalidEnrollment message for a registry, failing the test if it parses. */
function problemsOf(raw: unknown): string {
  try {
    parseEnrollments(raw, 'enrollments.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnrollment);
    return (error as Error).message;
  }
  throw new Error('expected InvalidEnrollment');
}

describe('parseEnrollments', () => {
  it('returns every record of a valid registry, with defaults filled in', () => {
    const enrollments = parseEnrollments(
      {
        enrollments: [
          record(),
          record({ environment: 'staging', accountId: '444455556666', identity: true, secrets: true }),
          record({ service: 'ledger', identity: true, readerRoles: ['ledger-writer', 'ledger-reader'] }),
        ],
      },
      'enrollments.yaml',
    );

    expect(enrollments).toEqual([
      { ...record(), identity: false, secrets: false, readerRoles: [] },
      {
        ...record({ environment: 'staging', accountId: '444455556666' }),
        identity: true,
        secrets: true,
        readerRoles: [],
      },
      {
        ...record({ service: 'ledger' }),
        identity: true,
        secrets: false,
        readerRoles: ['ledger-writer', 'ledger-reader'],
      },
    ]);
  });

  it('accepts an empty registry', () => {
    expect(parseEnrollments({ enrollments: [] }, 'enrollments.yaml')).toEqual([]);
  });

  it.each([
    [{ accountId: '12345' }, 'record 1 (payments/prod): accountId must be a 12-digit AWS account id'],
    [{ accountId: 111122223333 }, 'record 1 (payments/prod): accountId must be a string'],
    [{ service: undefined }, 'record 1: service is required'],
    [{ service: 'pay ments' }, 'record 1 (pay ments/prod): service may hold only letters, digits'],
    [{ environment: '' }, 'record 1 (payments/): environment must not be empty'],
    [{ identity: 'yes' }, 'record 1 (payments/prod): identity must be true or false'],
    [{ secrets: 1 }, 'record 1 (payments/prod): secrets must be true or false'],
    [{ readerRoles: 'api' }, 'record 1 (payments/prod): readerRoles must be a list'],
    [
      { readerRoles: ['api', 'no spaces'] },
      'record 1 (payments/prod): readerRoles[1] must be an IAM role name',
    ],
    [{ owner: 'team-a' }, 'record 1 (payments/prod): unknown key "owner"'],
  ])('names the source, the record and the field: %o', (fields, expected) => {
    const raw = { enrollments: [JSON.parse(JSON.stringify(record(fields)))] };
    expect(problemsOf(raw)).toContain(`enrollments.yaml: ${expected}`);
  });

  it('counts records from 1 and collects every problem in one message', () => {
    const message = problemsOf({
      enrollments: [
        record(),
        record({ environment: 'dev' }),
        record({ environment: 'qa', accountId: 'x' }),
        'oops',
      ],
    });

    expect(message).toBe(
      'enrollments.yaml: record 3 (payments/qa): accountId must be a 12-digit AWS account id; ' +
        'record 4: must be a mapping of service, environment, accountId…',
    );
  });

  it('rejects a duplicate (service, environment), naming both records', () => {
    const message = problemsOf({
      enrollments: [record(), record({ service: 'ledger' }), record({ accountId: '444455556666' })],
    });

    expect(message).toBe(
      'enrollments.yaml: record 3 (payments/prod): duplicates record 1 (same service and environment)',
    );
  });

  it.each([[null], [[record()]], [{ enrollment: [record()] }], [{ enrollments: record() }]])(
    'rejects a registry that is not a mapping with an enrollments list: %j',
    (raw) => {
      expect(problemsOf(raw)).toBe('enrollments.yaml: must be a mapping with an "enrollments:" list');
    },
  );

  it('rejects an unknown top-level key', () => {
    expect(problemsOf({ enrollments: [record()], version: 2 })).toBe(
      'enrollments.yaml: unknown top-level key "version"',
    );
  });

  it('lists at most 20 problems and counts the rest', () => {
    const broken = Array.from({ length: 25 }, (_, i) => record({ environment: `e${i}`, accountId: 'x' }));
    const message = problemsOf({ enrollments: broken });

    expect(message.match(/accountId must be/g)).toHaveLength(20);
    expect(message).toMatch(/; and 5 more problems$/);
  });
});
