/**
 * ASL reference paths (`$.a.b[0]['c d']`, `$$.Execution.Name`): the only path syntax AWS accepts in fields such
 * as MaxConcurrencyPath. The adapter resolves them itself to check a value before the engine uses it.
 */

type Segment = string | number;

export interface ReferencePath {
  fromContext: boolean;
  segments: Segment[];
}

const SEGMENT = /^(?:\.([^.[\]'"]+)|\['([^']*)'\]|\["([^"]*)"\]|\[(\d+)\])/;

/** Parses a reference path, or returns undefined when it uses more than reference-path syntax. */
export const parseReferencePath = (path: string): ReferencePath | undefined => {
  const fromContext = path.startsWith('$$');
  let rest = path.slice(fromContext ? 2 : 1);
  if (!path.startsWith('$')) return undefined;
  const segments: Segment[] = [];
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match) return undefined;
    const [whole, dotted, singleQuoted, doubleQuoted, index] = match;
    segments.push(index === undefined ? (dotted ?? singleQuoted ?? doubleQuoted ?? '') : Number(index));
    rest = rest.slice(whole.length);
  }
  return { fromContext, segments };
};

export const resolveReferencePath = (path: ReferencePath, input: unknown, context: unknown): unknown =>
  path.segments.reduce<unknown>(
    (value, segment) => {
      if (typeof value !== 'object' || value === null) return undefined;
      return (value as Record<Segment, unknown>)[segment];
    },
    path.fromContext ? context : input,
  );
