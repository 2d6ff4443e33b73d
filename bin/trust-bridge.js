#!/usr/bin/env node
// The CLI runs from the TypeScript sources: tsx's loader compiles them on the fly, so nothing is built at install.
import { register } from 'tsx/esm/api';

register();
await import('../engine/polyfills.ts');
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
