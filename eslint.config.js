import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * Dependencies point one way (README, "Architecture"): domain ← ports ← adapters ← entry points. Each zone says
 * what a folder may not import; import-x resolves every relative import, type-only ones included.
 */
const steps = readdirSync('functions', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
  .map((entry) => `./functions/${entry.name}`);
const ports = readdirSync('functions/shared/ports').map((port) => `./functions/shared/ports/${port}`);
const project = [
  './functions',
  './client',
  './engine',
  './local-stack',
  './cli',
  './bench',
  './packaging',
  './test',
];
const outside = (...own) => project.filter((folder) => !own.includes(folder));
const stepKit = [
  './functions/shared/config.ts',
  './functions/shared/dependencies.ts',
  './functions/shared/step-handler.ts',
];

const zones = [
  // What deploys stands alone: no stand-in, CLI, benchmark or test code reaches a bundle; of the client, only
  // its SPIFFE module (the one home of the SPIFFE ID, X509-SVID and SPIRE secret rules).
  {
    target: './functions',
    from: outside('./functions', './client'),
    message: 'functions/ deploys: it may not import the embedded default, the CLI, benchmarks or tests.',
  },
  {
    target: './functions',
    from: './client',
    except: ['./spiffe'],
    message: 'Of the client, functions/ uses only client/spiffe/.',
  },
  // The client is published on its own; the engine is a library of the embedded default.
  { target: './client', from: outside('./client'), message: 'client/ is published on its own.' },
  { target: './engine', from: outside('./engine'), message: 'engine/ knows only the ASL, not this project.' },
  {
    target: './functions/shared/domain',
    from: ['./functions/shared/ports', './functions/shared/aws', ...stepKit, ...steps],
    message: 'The domain depends on nothing of the project but itself.',
  },
  {
    target: ['./functions/shared/ports', './functions/shared/aws'],
    from: [...steps, './functions/shared/dependencies.ts', './functions/shared/step-handler.ts'],
    message: 'Ports and adapters are used by steps, not the other way round.',
  },
  // A step declares ports; only its handler.ts (the composition root) names an AWS adapter.
  ...ports.map((port) => ({
    target: steps.map((step) => `${step}/!(handler).ts`),
    from: port,
    except: [`./${port.split('/').pop()}.ts`],
    message: 'A step depends on the port; its handler.ts picks the adapter.',
  })),
  {
    target: steps.map((step) => `${step}/!(handler).ts`),
    from: './functions/shared/aws',
    message: "A step depends on ports; AWS clients are its handler's business.",
  },
  ...steps.map((step) => ({
    target: step,
    from: steps.filter((other) => other !== step),
    message: 'A step does not import another step: shared rules belong in functions/shared.',
  })),
  {
    target: './local-stack',
    from: ['./cli', './bench', './test', './packaging'],
    message: 'The embedded default is used by the CLI and benchmarks, not the other way round.',
  },
  // The embedded default has one public entry; its stand-ins, stores and servers are its own business.
  {
    target: ['./cli', './bench'],
    from: './local-stack',
    except: ['./stack.ts'],
    message: 'The CLI and benchmarks reach the embedded default through local-stack/stack.ts.',
  },
  {
    target: './cli',
    from: ['./bench', './test'],
    message: 'The shipped CLI carries no benchmark or test code.',
  },
  {
    target: './bench',
    from: ['./cli', './test'],
    message: 'Benchmarks drive the CLI as a process, not its internals.',
  },
  {
    target: './packaging',
    from: ['./cli', './bench', './local-stack', './test'],
    message: 'Packaging builds functions/ only.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.serverless/', '.esbuild/', 'coverage/', '.trust-bridge/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // CommonJS, because serverless-esbuild require()s its build options.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
