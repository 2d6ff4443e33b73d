import { describe, expect, test } from '@jest/globals';
import { InvalidConfiguration } from '../../../../functions/shared/domain/errors';
import {
  decodeSpireSvidSecret,
  encodeSpireSvidSecret,
  InvalidSpireSvidSecret,
  type SpireSvidSecret,
} from '../../../../client/spiffe/spire-secret';
import { svidSecretName } from '../../../../functions/shared/domain/svid-secret';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const secret: SpireSvidSecret = {
  spiffeID: 'spiffe://example.org/prod/payments',
  x509SVID: '-----BEGIN CERTIFICATE-----\nMIIBleaf+/=\n-----END CERTIFICATE-----\n',
  x509SVIDKey: '-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n',
  bundle: '-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n',
  federatedBundles: {},
};

describe('svidSecretName', () => {
  test('is <prefix><environment>/<service>', () => {
    expect(svidSecretName('trust-bridge/svid/', 'prod', 'payments')).toBe('trust-bridge/svid/prod/payments');
  });

  test('rejects a name Secrets Manager would refuse', () => {
    expect(() => svidSecretName('trust bridge/', 'prod', 'payments')).toThrow(InvalidConfiguration);
    expect(() => svidSecretName('x'.repeat(500), 'prod', 'payments')).toThrow(/at most 512/);
  });
});

describe('encodeSpireSvidSecret', () => {
  test("writes the bytes Go's json.Marshal writes for SPIRE's Data struct, in field order", () => {
    expect(text(encodeSpireSvidSecret(secret))).toBe(
      '{"spiffeID":"spiffe://example.org/prod/payments",' +
        '"x509SVID":"-----BEGIN CERTIFICATE-----\\nMIIBleaf+/=\\n-----END CERTIFICATE-----\\n",' +
        '"x509SVIDKey":"-----BEGIN PRIVATE KEY-----\\nMIGHkey\\n-----END PRIVATE KEY-----\\n",' +
        '"bundle":"-----BEGIN CERTIFICATE-----\\nMIIBroot\\n-----END CERTIFICATE-----\\n"}',
    );
  });

  test('omits empty fields and sorts federated trust domains by byte order (omitempty, sorted map keys)', () => {
    const bytes = encodeSpireSvidSecret({
      ...secret,
      bundle: '',
      federatedBundles: { 'z.example': 'Z', 'B.example': 'B', 'a.example': 'A' },
    });
    expect(text(bytes)).toMatch(
      /"x509SVIDKey":"[^"]*","federatedBundles":\{"B.example":"B","a.example":"A","z.example":"Z"\}\}$/,
    );
    expect(text(bytes)).not.toContain('"bundle"');
  });

  test('escapes like Go: <, >, & and U+2028/U+2029 as \\u00XX, control characters, quotes', () => {
    const bytes = encodeSpireSvidSecret({
      spiffeID: 'a<b>c&d\u2028e\u2029"\\\t\b\f\u001b\u007fé',
      x509SVID: '',
      x509SVIDKey: '',
      bundle: '',
      federatedBundles: {},
    });
    expect(text(bytes)).toBe(
      '{"spiffeID":"a\\u003cb\\u003ec\\u0026d\\u2028e\\u2029\\"\\\\\\t\\b\\f\\u001b\u007fé"}',
    );
  });

  test('round-trips through decodeSpireSvidSecret', () => {
    const full = { ...secret, federatedBundles: { 'partner.example': 'PEM<&>' } };
    expect(decodeSpireSvidSecret(encodeSpireSvidSecret(full))).toEqual(full);
  });
});

describe('decodeSpireSvidSecret', () => {
  test('reads a value with omitted fields as empty ones', () => {
    const bytes = new TextEncoder().encode('{"spiffeID":"spiffe://example.org/x"}');
    expect(decodeSpireSvidSecret(bytes)).toEqual({
      spiffeID: 'spiffe://example.org/x',
      x509SVID: '',
      x509SVIDKey: '',
      bundle: '',
      federatedBundles: {},
    });
  });

  test('rejects what is not an SVID secret without echoing its content', () => {
    const leak = 'PRIVATE-KEY-MATERIAL';
    const attempts = [
      `not json ${leak}`,
      `["${leak}"]`,
      `{"x509SVIDKey":["${leak}"]}`,
      `{"federatedBundles":"${leak}"}`,
    ];
    for (const attempt of attempts) {
      const decode = () => decodeSpireSvidSecret(new TextEncoder().encode(attempt));
      expect(decode).toThrow(InvalidSpireSvidSecret);
      try {
        decode();
      } catch (error) {
        expect(String(error)).not.toContain(leak);
      }
    }
  });
});
