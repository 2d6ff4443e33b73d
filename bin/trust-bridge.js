#!/usr/bin/env node
// The CLI runs from the TypeScript sources: tsx's loader compiles them on the fly, so nothing is built at install.
import { register } from 'tsx/esm/api';

// A reader that stops early (`trust-bridge status | head`) closes the pipe: end quietly, as a command ended by
// SIGPIPE does, instead of dying on the unhandled write error with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

register();
await import('../engine/polyfills.ts');
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
