/**
 * zod/mini, which bundles only the checks used (classic zod costs ~450 KB and ~60 ms of every cold start), with
 * classic zod's English messages, which zod/mini does not load by itself. `import * as z from './zod'`, not from
 * zod: re-exported binding by binding, so esbuild still drops what no function uses.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

if (!config().localeError) config(en());

export * from 'zod/mini';
