/**
 * Every page of a paged AWS call, one call at a time: `fetch` asks for the page after `token` (undefined for the
 * first), `nextToken` reads the next token off a page (NextToken, LastEvaluatedKey…). Leaving the loop early asks
 * for no further page.
 *
 * Why not the SDK's paginators (paginateListSecrets, paginateQuery…): they refuse any client that is not an instance
 * of their SDK client class (`config.client instanceof SecretsManagerClient`, in @smithy/core 3.41 as in the 1.4
 * that the pinned ACM PCA client carries), and the adapters also run over the local stand-ins, which implement only
 * `send`. The CLI, which always holds a real client, pages through here too, so paging is written one way; the
 * SDK's paginator would also write each page's token into the one input object every command shares.
 */
export async function* pages<Page, Token>(
  fetch: (token: Token | undefined) => Promise<Page>,
  nextToken: (page: Page) => Token | undefined,
): AsyncGenerator<Page, void, undefined> {
  let token: Token | undefined;
  do {
    const page = await fetch(token);
    yield page;
    token = nextToken(page);
  } while (token);
}
