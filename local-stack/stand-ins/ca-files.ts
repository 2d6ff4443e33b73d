/**
 * A local CA's key and certificate kept in a directory, as both local CAs keep theirs (the software CA behind
 * ACM PCA, the Keywhiz dev server's own): both files or neither, so that a half-made CA is named, never used.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidConfiguration } from '../../functions/shared/domain/errors';
import { readIfPresent } from '../read-if-present';

export interface CaFiles {
  dir: string;
  keyFile: string;
  certFile: string;
  /** How a refusal names the CA ("the software CA"), and what removing a file makes anew ("root"). */
  describe: { ca: string; made: string };
}

/** The key and certificate PEMs; undefined when the directory holds neither, refused when it holds one. */
export async function readCaFiles(files: CaFiles): Promise<{ keyPem: string; certPem: string } | undefined> {
  const { dir, keyFile, certFile, describe } = files;
  const [keyPem, certPem] = await Promise.all([
    readIfPresent(join(dir, keyFile)),
    readIfPresent(join(dir, certFile)),
  ]);
  if (keyPem === undefined && certPem === undefined) return undefined;
  if (keyPem === undefined || certPem === undefined) {
    throw new InvalidConfiguration(
      `${describe.ca} in ${dir} has only one of ${keyFile} and ${certFile}; remove the other to create a new ${describe.made}`,
    );
  }
  return { keyPem, certPem };
}

/**
 * Keeps a new CA, its directory and key readable by their owner only. The key is created exclusively ('wx':
 * never overwrite a CA another process created meanwhile) and the certificate lands by rename, so a crash
 * leaves a key without certificate, which readCaFiles reports, never a certificate without key.
 */
export async function writeCaFiles(files: CaFiles, keyPem: string, certPem: string): Promise<void> {
  const { dir, keyFile, certFile } = files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writeFile(join(dir, keyFile), keyPem, { mode: 0o600, flag: 'wx' });
  const pending = join(dir, `${certFile}.${process.pid}.tmp`);
  await writeFile(pending, certPem, { mode: 0o644 });
  await rename(pending, join(dir, certFile));
}
