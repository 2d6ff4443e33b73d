import { X509Certificate } from 'node:crypto';
import type { KeywhizSecret, KeywhizSecretInfo } from '../../functions/shared/domain/keywhiz';
import type {
  SecretSource,
  SecretSourceFactory,
} from '../../functions/shared/ports/secret-source/secret-source';
import { KEYWHIZ_LATENCY_MS } from './quotas';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The service a client certificate names: Keywhiz maps its one SPIFFE ID to a client (the ID's last segment). */
const serviceOf = (certificateChainPem: string): string => {
  const san = new X509Certificate(certificateChainPem).subjectAltName ?? '';
  const spiffeId = /URI:(spiffe:\/\/\S+?)(,|$)/.exec(san)?.[1] ?? '';
  return spiffeId.split('/').at(-1) ?? '';
};

/**
 * Keywhiz as the simulation's sync agents see it: `secretsPerService` secrets per service, each call one
 * KEYWHIZ_LATENCY_MS away, in simulated time. Keywhiz is not AWS and has no published quota; the mTLS handshake
 * the real client makes is left out (the embedded default's dev server exercises it).
 */
export const simulatedKeywhiz =
  (secretsPerService: number, counts: { lists: number; fetches: number }): SecretSourceFactory =>
  async ({ certificateChainPem }) => {
    const service = serviceOf(certificateChainPem);
    const infos: KeywhizSecretInfo[] = Array.from({ length: secretsPerService }, (_, i) => ({
      name: `secret-${i}`,
      checksum: `0A${i.toString(16).padStart(4, '0')}`,
      updateDate: '2026-12-01T00:00:00Z',
      metadata: {},
    }));
    const source: SecretSource = {
      list: async () => {
        counts.lists += 1;
        await sleep(KEYWHIZ_LATENCY_MS);
        return infos;
      },
      fetch: async (names) => {
        counts.fetches += 1;
        await sleep(KEYWHIZ_LATENCY_MS);
        const secrets = new Map<string, KeywhizSecret>();
        for (const info of infos.filter((i) => names.includes(i.name))) {
          // Benchmark content, not a secret.
          secrets.set(info.name, { ...info, content: new TextEncoder().encode(`${service} ${info.name}\n`) });
        }
        return { secrets, failed: new Map() };
      },
      close: () => {},
    };
    return source;
  };
