/**
 * The artifacts `npm run package` builds: one zip per central function and one for the sync agent, each a single
 * bundle (and its source map) holding only what its function uses: the SDK clients it calls, no stand-in of the
 * embedded default, no CLI, engine, benchmark or test code.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { entriesOf, readEntry } from '../../packaging/zip-reader';
import { packageStack, type PackagedStack } from '../support/packaged-stack';

/** The SDK clients each function calls: any other client in its bundle is dead weight at every cold start. */
const CLIENTS: Record<string, string[]> = {
  issueSvid: ['client-acm-pca', 'client-secrets-manager'],
  loadChunk: [],
  loadSyncChunk: [],
  planRotation: ['client-eventbridge', 'client-s3', 'client-secrets-manager'],
  planSync: ['client-s3'],
  receiveWebhook: ['client-dynamodb', 'client-eventbridge', 'client-secrets-manager'],
  reportOutcomes: ['client-dynamodb', 'client-eventbridge'],
  reportSyncOutcomes: ['client-dynamodb', 'client-eventbridge'],
  retireSvid: ['client-secrets-manager'],
  summarizeRotation: ['client-s3'],
  summarizeSync: ['client-s3'],
  syncAgent: ['client-eventbridge', 'client-secrets-manager'],
  watchSvidExpiry: ['client-secrets-manager'],
};
/**
 * Project folders that never deploy. Of client/, only client/spiffe/ does: the SPIFFE ID, X509-SVID and SPIRE secret
 * rules the domain shares with the function-side client.
 */
const NOT_DEPLOYED = /(^|\/)((local-stack|cli|engine|bench|test|examples|packaging)\/|client\/(?!spiffe\/))/;

let stack: PackagedStack;
beforeAll(async () => {
  stack = await packageStack();
}, 300_000);

describe('npm run package', () => {
  it('writes a zip for every function of the template, and the sync agent’s', () => {
    const functions = Object.entries(stack.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id]) => id.replace(/LambdaFunction$/, ''))
      .map((id) => id.charAt(0).toLowerCase() + id.slice(1));
    const zips = readdirSync(stack.dir).filter((f) => f.endsWith('.zip'));
    expect(zips.sort()).toEqual([...functions, 'syncAgent'].map((f) => `${f}.zip`).sort());
    expect(Object.keys(CLIENTS).sort()).toEqual([...functions, 'syncAgent'].sort());
  });

  it.each(Object.entries(CLIENTS))(
    '%s holds its one bundle, with only the SDK clients it calls',
    async (fn, clients) => {
      const zip = `${stack.dir}/${fn}.zip`;
      const names = await entriesOf(zip);
      expect(names).toHaveLength(2);
      const bundle = names.find((n) => n.endsWith('/handler.mjs'));
      expect(bundle).toMatch(/^functions\/[\w-]+\/handler\.mjs$/);
      expect(names).toContain(`${bundle}.map`);
      const { sources } = JSON.parse((await readEntry(zip, `${bundle}.map`)).toString('utf8')) as {
        sources: string[];
      };
      const own = sources.filter((s) => !s.includes('node_modules/'));
      expect(own.filter((s) => NOT_DEPLOYED.test(s.replace(/^(\.\.\/)+/, '')))).toEqual([]);
      const bundledClients = new Set(
        sources.flatMap((s) => /node_modules\/@aws-sdk\/(client-[\w-]+)\//.exec(s)?.[1] ?? []),
      );
      expect([...bundledClients].sort()).toEqual(clients);
    },
  );
});
