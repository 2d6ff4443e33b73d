/**
 * A one-line counter on stderr for long runs, shown only when stderr is a terminal, so piped or --json
 * output stays clean.
 */
export const progress = (label: string, stream: NodeJS.WriteStream = process.stderr) => {
  const shown = stream.isTTY === true;
  let last = 0;
  return {
    update(done: number, total?: number) {
      const now = Date.now();
      // Redrawing more than ten times a second only costs time.
      if (!shown || now - last < 100) return;
      last = now;
      stream.write(`\r${label}: ${done}${total !== undefined ? `/${total}` : ''}`);
    },
    done() {
      if (shown && last > 0) stream.write('\r\x1b[K');
    },
  };
};
