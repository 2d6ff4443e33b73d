import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPS_DETAIL_TYPES, SECRET_DETAIL_TYPES, SVID_DETAIL_TYPES } from '../functions/shared/domain/audit';

/** The schema file of each audit detail-type: events/schemas/<file>.json. */
export const AUDIT_SCHEMA_FILES: Record<string, string> = {
  [SVID_DETAIL_TYPES.issued]: 'svid-issued',
  [SVID_DETAIL_TYPES.skipped]: 'svid-renewal-skipped',
  [SVID_DETAIL_TYPES.repaired]: 'svid-repaired',
  [SVID_DETAIL_TYPES.failed]: 'svid-rotation-failed',
  [SVID_DETAIL_TYPES.deleted]: 'svid-deleted',
  [SVID_DETAIL_TYPES.retirementRefused]: 'svid-retirement-refused',
  [SECRET_DETAIL_TYPES.synced]: 'secret-synced',
  [SECRET_DETAIL_TYPES.unchanged]: 'secrets-unchanged',
  [SECRET_DETAIL_TYPES.deleted]: 'secret-deleted',
  [SECRET_DETAIL_TYPES.restored]: 'secret-restored',
  [SECRET_DETAIL_TYPES.refused]: 'secret-sync-refused',
  [SECRET_DETAIL_TYPES.failed]: 'secret-sync-failed',
  [OPS_DETAIL_TYPES.replayed]: 'execution-replayed',
};

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validators = new Map(
  Object.entries(AUDIT_SCHEMA_FILES).map(([detailType, file]) => [
    detailType,
    ajv.compile(JSON.parse(readFileSync(new URL(`./schemas/${file}.json`, import.meta.url), 'utf8'))),
  ]),
);

/** The problems of an EventBridge audit event against its detail-type's schema; [] when it is valid. */
export function validateAuditEvent(event: unknown): string[] {
  const detailType = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  const validate = typeof detailType === 'string' ? validators.get(detailType) : undefined;
  if (!validate) return [`detail-type ${JSON.stringify(detailType)} is not an audit detail-type`];
  if (validate(event)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
  });
}
