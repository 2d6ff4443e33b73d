import { afterEach, beforeEach, jest } from '@jest/globals';

/**
 * What the CLI prints (console.log and console.error, one entry per call), captured afresh for every test of
 * the file that calls this. `printed.length = 0` forgets what a test printed so far.
 */
export const capturePrinted = (): string[] => {
  const printed: string[] = [];
  beforeEach(() => {
    printed.length = 0;
    const capture = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
    jest.spyOn(console, 'log').mockImplementation(capture);
    jest.spyOn(console, 'error').mockImplementation(capture);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  return printed;
};
