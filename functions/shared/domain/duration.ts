/**
 * `17h 02m`: a span in hours and minutes, as an SVID's verification says how long it has left (and `status`
 * shows it); a negative span counts as none.
 */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}
