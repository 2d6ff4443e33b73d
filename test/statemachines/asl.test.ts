/** Every workflow in statemachines/ is valid Amazon States Language, as asl-validator reads it. */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

type Validation = { isValid: boolean; errorsText: (separator?: string) => string };
// asl-validator is CommonJS without type declarations.
const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => Validation;

const directory = fileURLToPath(new URL('../../statemachines', import.meta.url));
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.asl.json'))
  .sort();

describe('statemachines/*.asl.json', () => {
  it('include the four workflows serverless.yml deploys', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'rotate-svids.asl.json',
        'rotate-svids-chunk.asl.json',
        'sync-secrets.asl.json',
        'sync-secrets-chunk.asl.json',
      ]),
    );
  });

  it.each(files)('%s is valid ASL', (file) => {
    const result = validate(JSON.parse(readFileSync(join(directory, file), 'utf8')));
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });
});
