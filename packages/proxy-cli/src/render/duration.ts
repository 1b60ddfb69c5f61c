/** Milliseconds for people: `850 ms`, `12.3 s`, `2 m 05 s`, `1 h 02 m`. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.round(safe)} ms`;
  const totalSeconds = safe / 1000;
  if (totalSeconds < 60) return `${totalSeconds.toFixed(1)} s`;
  const seconds = Math.floor(totalSeconds);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${pad(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${pad(Math.floor(seconds / 60) % 60)} m`;
}

/** How long ago an ISO time was, relative to `now`: `4 s ago`, `3 m 10 s ago`. */
export function formatAge(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const ms = now - then;
  return ms < 1000 ? 'just now' : `${formatDuration(ms).replace(/\.\d s$/, ' s')} ago`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
