import { renderSpiffeId } from './spiffe-id';
import { svidSecretName } from './svid-secret';

/** How SVIDs are named: the settings of that name in config.ts (SVID_NAMING). */
export interface SvidNaming {
  TRUST_DOMAIN: string;
  SPIFFE_ID_TEMPLATE: string;
  SVID_SECRET_PREFIX: string;
}

/**
 * The SPIFFE ID and secret name of a (service, environment), from the configured template and prefix.
 * The ID is not validated here: the issuing step does that, so a bad ID fails only its own account.
 */
export const svidSubject = (config: SvidNaming, enrollment: { service: string; environment: string }) => ({
  spiffeId: renderSpiffeId(config.SPIFFE_ID_TEMPLATE, {
    trustDomain: config.TRUST_DOMAIN,
    environment: enrollment.environment,
    service: enrollment.service,
  }),
  secretName: svidSecretName(config.SVID_SECRET_PREFIX, enrollment.environment, enrollment.service),
});
