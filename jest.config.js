/** Jest runs in native ESM mode (@middy/core is ESM-only); ts-jest only strips types (tsc checks them). */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  setupFiles: ['<rootDir>/engine/polyfills.ts'],
};

export default {
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: 'trust-bridge',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/contract/'],
    },
    {
      // The stand-ins against moto: one moto_server per run, started only when a contract test is selected.
      ...shared,
      displayName: 'contract',
      testMatch: ['<rootDir>/test/contract/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/moto-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/moto-global-teardown.ts',
    },
  ],
};
