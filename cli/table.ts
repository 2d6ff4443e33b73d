/** Renders rows as an aligned plain-text table with a header line. */
export const renderTable = (headers: string[], rows: string[][]): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

/** Prints records as JSON (one array) with --json, otherwise as a table of the cells each record gives. */
export const printListing = <T>(
  records: T[],
  options: { json: boolean; headers: string[]; cells: (record: T) => string[]; empty: string },
  print: (line: string) => void = console.log,
): void => {
  if (options.json) return print(JSON.stringify(records, null, 2));
  if (records.length === 0) return print(options.empty);
  print(renderTable(options.headers, records.map(options.cells)));
};
