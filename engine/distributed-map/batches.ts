import { isJsonObject, type Json, type JsonObject } from '../asl';
import { countField, type ReaderScope } from './item-reader';

/** What one child execution gets: its input, and how many items it stands for (the failure threshold counts items). */
export interface ChildWork {
  input: Json;
  itemCount: number;
}

const bytesOf = (value: Json) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** Applies ItemSelector to each item, as AWS does before batching, with $$.Map.Item.Index and Value. */
const selectItems = async (state: JsonObject, items: Json[], scope: ReaderScope): Promise<Json[]> => {
  const selector = state.ItemSelector;
  if (selector === undefined) return items;
  const selected: Json[] = [];
  for (const [index, item] of items.entries()) {
    const context = { ...scope.context, Map: { Item: { Index: index, Value: item } } };
    selected.push(await scope.templates.fill(selector, scope.input, context));
  }
  return selected;
};

/**
 * Groups items into batches as AWS's ItemBatcher does: at most MaxItemsPerBatch items, and no more bytes than
 * MaxInputBytesPerBatch (256 KiB when not given); the child input is `{ "BatchInput": ..., "Items": [...] }`,
 * BatchInput only when configured. An item too big for any batch goes alone; its child then fails on its input.
 */
const batch = async (batcher: JsonObject, items: Json[], scope: ReaderScope): Promise<ChildWork[]> => {
  const maxItems = countField(batcher, 'MaxItemsPerBatch', scope, { min: 1, max: Number.MAX_SAFE_INTEGER });
  const maxBytes =
    countField(batcher, 'MaxInputBytesPerBatch', scope, { min: 1, max: scope.limits.batchBytes }) ??
    scope.limits.batchBytes;
  const batchInput =
    batcher.BatchInput === undefined
      ? undefined
      : await scope.templates.fill(batcher.BatchInput, scope.input, scope.context);
  const shell: JsonObject = batchInput === undefined ? {} : { BatchInput: batchInput };
  const emptyBytes = bytesOf({ ...shell, Items: [] });
  const work: ChildWork[] = [];
  let current: Json[] = [];
  let bytes = emptyBytes;
  const close = () => {
    if (current.length > 0) work.push({ input: { ...shell, Items: current }, itemCount: current.length });
    current = [];
    bytes = emptyBytes;
  };
  for (const item of items) {
    const added = bytesOf(item) + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (bytes + added > maxBytes || current.length === maxItems)) close();
    bytes += bytesOf(item) + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  close();
  return work;
};

/** Every child execution's input, in item order. */
export const childWork = async (
  state: JsonObject,
  items: Json[],
  scope: ReaderScope,
): Promise<ChildWork[]> => {
  const selected = await selectItems(state, items, scope);
  if (!isJsonObject(state.ItemBatcher)) return selected.map((input) => ({ input, itemCount: 1 }));
  return batch(state.ItemBatcher, selected, scope);
};
