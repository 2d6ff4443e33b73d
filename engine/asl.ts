/** The parts of an Amazon States Language definition the adapter reads, walked without trusting its shape. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Copies JSON data in the caller's realm. Not structuredClone: under jest's vm contexts it returns objects of
 * another realm, which the engine's isPlainObj check rejects, silently skipping nested payload templates.
 */
export const cloneJson = <T extends Json>(value: T): T => JSON.parse(JSON.stringify(value));

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One state, wherever it sits: top level, inside a Map's ItemProcessor/Iterator or a Parallel branch. */
export interface StateVisit {
  name: string;
  state: JsonObject;
  /**
   * The innermost inline Map whose iterations run this state within the same execution, if any. A Distributed
   * Map's ItemProcessor runs as child executions of its own, so its states have none (unless nested deeper).
   */
  enclosingMap?: string;
}

/** A Map whose ItemProcessor runs each item (or batch) as a child execution. */
export const isDistributedMap = (state: JsonObject): boolean => {
  const processor = state.ItemProcessor;
  return (
    state.Type === 'Map' &&
    isJsonObject(processor) &&
    isJsonObject(processor.ProcessorConfig) &&
    processor.ProcessorConfig.Mode === 'DISTRIBUTED'
  );
};

const NESTED_MACHINE_FIELDS = ['ItemProcessor', 'Iterator', 'Branches'] as const;

const nestedMachines = (state: JsonObject): JsonObject[] => {
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return isJsonObject(processor) ? [processor] : [];
  }
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) return state.Branches.filter(isJsonObject);
  return [];
};

/** Every state of the definition, depth first, in definition order. */
export const statesOf = (definition: JsonObject): StateVisit[] => {
  const visits: StateVisit[] = [];
  const walk = (machine: JsonObject, enclosingMap: string | undefined) => {
    if (!isJsonObject(machine.States)) return;
    for (const [name, state] of Object.entries(machine.States)) {
      if (!isJsonObject(state)) continue;
      visits.push(enclosingMap === undefined ? { name, state } : { name, state, enclosingMap });
      const inner = state.Type !== 'Map' ? enclosingMap : isDistributedMap(state) ? undefined : name;
      for (const nested of nestedMachines(state)) walk(nested, inner);
    }
  };
  walk(definition, undefined);
  return visits;
};

/** The strings a state holds itself, leaving out the states nested in it (they are visited on their own). */
export const ownStrings = (state: JsonObject): string[] => {
  const strings: string[] = [];
  const collect = (value: Json) => {
    if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isJsonObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        strings.push(key);
        collect(inner);
      }
    }
  };
  for (const [key, value] of Object.entries(state)) {
    if (!(NESTED_MACHINE_FIELDS as readonly string[]).includes(key)) collect(value);
  }
  return strings;
};

const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** Replaces `${Name}` in every key and string, as DefinitionSubstitutions do on AWS; unknown names stay. */
export const substitutePlaceholders = (value: Json, substitutions: Record<string, string>): Json => {
  const substitute = (text: string) =>
    text.replace(PLACEHOLDER, (whole, name: string) => substitutions[name] ?? whole);
  if (typeof value === 'string') return substitute(value);
  if (Array.isArray(value)) return value.map((item) => substitutePlaceholders(item, substitutions));
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        substitute(key),
        substitutePlaceholders(inner, substitutions),
      ]),
    );
  }
  return value;
};

export const placeholdersIn = (text: string): string[] => [...text.matchAll(PLACEHOLDER)].map((m) => m[0]);
