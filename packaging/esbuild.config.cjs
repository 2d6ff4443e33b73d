/**
 * esbuild's options for every deployable bundle: serverless-esbuild reads them (custom.esbuild.config) for the
 * central functions, and packaging/package.ts for the sync agent, so both are built alike.
 */
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

/**
 * The SDK clients each keep their own nested copy of the same @smithy and @aws-sdk packages (the pinned ACM PCA
 * client holds older ones at the top of node_modules). Bundling one copy per (name, version) keeps a function that
 * uses three clients from carrying the SDK's core three times.
 */
const oneCopyPerVersion = {
  name: 'one-copy-per-version',
  setup(build) {
    const canonical = new Map();
    const packageRootOf = (file) => {
      for (let dir = dirname(file); dir.includes('node_modules'); dir = dirname(dir)) {
        const manifest = join(dir, 'package.json');
        if (!existsSync(manifest)) continue;
        const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));
        if (name && version && dir.endsWith(join('node_modules', name)))
          return { root: dir, key: `${name}@${version}` };
      }
      return undefined;
    };
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === oneCopyPerVersion) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: oneCopyPerVersion,
      });
      if (resolved.errors.length > 0 || resolved.external || !resolved.path.includes('node_modules'))
        return resolved;
      const pkg = packageRootOf(resolved.path);
      if (!pkg) return resolved;
      const root = canonical.get(pkg.key) ?? pkg.root;
      canonical.set(pkg.key, root);
      return { ...resolved, path: join(root, relative(pkg.root, resolved.path)) };
    });
  },
};

const LAMBDA_UNUSED_CREDENTIALS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
];

const serverlessEsbuildOptions = () => ({
  bundle: true,
  // The ESM builds let esbuild drop what a function never imports; the CommonJS ones (esbuild's default) do not.
  mainFields: ['module', 'main'],
  minify: true,
  // Error classes keep their names: Lambda reports error.name as the error type the ASL's Retry and Catch match.
  keepNames: true,
  // Stack traces map to the TypeScript lines; the sources themselves stay out, which keeps each map small.
  sourcemap: true,
  sourcesContent: false,
  format: 'esm',
  outputFileExtension: '.mjs',
  platform: 'node',
  target: 'node22',
  // Pinned SDK versions are bundled, not taken from the runtime, but for the credential sources Lambda never
  // reaches: its credentials are in the environment, first in the SDK's chain. (Were one asked for, the
  // runtime's own copy would answer.) Leaving them out halves a one-client bundle.
  external: LAMBDA_UNUSED_CREDENTIALS,
  exclude: LAMBDA_UNUSED_CREDENTIALS,
  plugins: [oneCopyPerVersion],
  // One-shot build: esbuild's incremental context keeps osls alive after a failed build.
  skipRebuild: true,
  // Bundled CommonJS dependencies may still call require() on Node built-ins.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});

/** Options only serverless-esbuild reads; esbuild itself refuses them. */
const PLUGIN_ONLY = ['exclude', 'skipRebuild', 'outputFileExtension'];

module.exports = serverlessEsbuildOptions;
/** The same options for esbuild's own build(): the sync agent's bundle, the init benchmark's floors. */
module.exports.esbuildOptions = () =>
  Object.fromEntries(
    Object.entries(serverlessEsbuildOptions()).filter(([key]) => !PLUGIN_ONLY.includes(key)),
  );
