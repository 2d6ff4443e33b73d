/** Reads the packaged zips: the names they hold, one entry's bytes, or all of them unzipped into a directory. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Entry, open, type ZipFile } from 'yauzl';

const openZip = (path: string): Promise<ZipFile> =>
  new Promise((done, fail) =>
    open(path, { lazyEntries: true }, (error, zip) => (error || !zip ? fail(error) : done(zip))),
  );

/** Calls `onEntry` for each entry in order; resolves when the zip has been read through. */
const walk = async (path: string, onEntry: (zip: ZipFile, entry: Entry) => Promise<void>): Promise<void> => {
  const zip = await openZip(path);
  await new Promise<void>((done, fail) => {
    zip.on('error', fail).on('end', done);
    zip.on('entry', (entry: Entry) => onEntry(zip, entry).then(() => zip.readEntry(), fail));
    zip.readEntry();
  });
};

export async function entriesOf(path: string): Promise<string[]> {
  const names: string[] = [];
  await walk(path, async (_, entry) => void names.push(entry.fileName));
  return names;
}

const bytesOf = (zip: ZipFile, entry: Entry): Promise<Buffer> =>
  new Promise((done, fail) =>
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return fail(error);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => done(Buffer.concat(chunks)));
    }),
  );

export async function readEntry(path: string, name: string): Promise<Buffer> {
  let found: Buffer | undefined;
  await walk(path, async (zip, entry) => {
    if (entry.fileName === name) found = await bytesOf(zip, entry);
  });
  if (!found) throw new Error(`${path} holds no ${name}`);
  return found;
}

/** Unzips a function's artifact into `dir` and returns its handler module, `functions/<step>/handler.mjs`. */
export async function unzipHandler(path: string, dir: string): Promise<string> {
  await walk(path, async (zip, entry) => {
    if (entry.fileName.endsWith('/')) return;
    const target = join(dir, entry.fileName);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await bytesOf(zip, entry));
  });
  const [folder] = readdirSync(join(dir, 'functions'));
  if (!folder) throw new Error(`${path} holds no functions/<step>/`);
  return join(dir, 'functions', folder, 'handler.mjs');
}
