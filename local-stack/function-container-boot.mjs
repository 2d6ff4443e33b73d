// A worker thread does not inherit the tsx loader its process registered: it registers its own, then loads the
// function container from its TypeScript source.
import { register } from 'tsx/esm/api';

register();
await import('./function-container.ts');
