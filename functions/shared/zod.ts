/**
 * zod/mini, which bundles only the checks used (classic zod costs ~450 KB and ~60 ms of every cold start), with
 * classic zod's English messages, which zod/mini does not load by itself. Import `z` from here, not from zod.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

if (!z.config().localeError) z.config(en());

export { z };
