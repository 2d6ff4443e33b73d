import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SpareInodes } from '../../../local-stack/stand-ins/spare-inodes';

let dir: string;
let sparesDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spare-inodes-'));
  sparesDir = join(dir, '.spares');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('spare inodes', () => {
  it('replaces a file whole, creating no inode after the first spare: the replaced one is the next spare', () => {
    const spares = new SpareInodes(sparesDir);
    const file = join(dir, 'a.json');
    writeFileSync(file, 'first, and longer than what follows');
    const first = statSync(file).ino;
    const stats = spares.replace(file, 'second', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('second');
    expect(stats.ino).toBe(BigInt(statSync(file).ino));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(sparesDir)).toHaveLength(1);

    spares.replace(file, 'third', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('third');
    // The first file's inode came back, cut to its new length.
    expect(statSync(file).ino).toBe(first);
    expect(readdirSync(sparesDir)).toHaveLength(1);
  });

  it('creates the file when there is none', () => {
    const file = join(dir, 'new.json');
    new SpareInodes(sparesDir).replace(file, 'made', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('made');
    expect(readdirSync(sparesDir)).toEqual([]);
  });

  it('never writes into a spare someone else also holds (another process keeping the same inode)', () => {
    const spares = new SpareInodes(sparesDir);
    const file = join(dir, 'a.json');
    writeFileSync(file, 'v1');
    spares.replace(file, 'v2', 0o600);
    const [spare] = readdirSync(sparesDir);
    const theirs = join(dir, 'theirs');
    linkSync(join(sparesDir, spare ?? ''), theirs);
    spares.replace(file, 'v3', 0o600);
    expect(readFileSync(theirs, 'utf8')).toBe('v1');
    expect(readFileSync(file, 'utf8')).toBe('v3');
  });

  it('close removes the spares; one left by a writer that is gone is removed by the next opening', () => {
    const spares = new SpareInodes(sparesDir);
    const file = join(dir, 'a.json');
    writeFileSync(file, 'v1');
    spares.replace(file, 'v2', 0o600);
    spares.close();
    expect(readdirSync(sparesDir)).toEqual([]);

    const gone = join(sparesDir, '.spare.999999999.0123456789ab.tmp');
    writeFileSync(gone, 'PRIVATE KEY');
    new SpareInodes(sparesDir).replace(file, 'v3', 0o600);
    expect(readdirSync(sparesDir)).not.toContain('.spare.999999999.0123456789ab.tmp');
  });
});
