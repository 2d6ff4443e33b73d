import { readFile } from 'node:fs/promises';

/** A file's text, or undefined when there is no such file: the local stack's files appear on first use. */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
