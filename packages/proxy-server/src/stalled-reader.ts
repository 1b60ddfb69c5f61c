import type { Writable } from 'node:stream';
import type { Clock, Timer } from './clock.js';

/** How many times per stall period the watch looks at what the client has taken. */
const LOOKS_PER_STALL = 4;

/**
 * Calls `onStall` once the client of `response` has taken none of what is left to send for
 * `stallMs`, counted from the watch's first look; any byte it takes starts the wait again, so a
 * slow reader keeps its connection. Stops by itself once all of it has gone to the kernel, and
 * at the call it returns.
 */
export function watchReader(
  response: Writable,
  stallMs: number,
  clock: Clock,
  onStall: () => void,
): () => void {
  let timer: Timer | undefined;
  // The first look sets the mark: a watch may start before what it watches is written.
  let left = Number.POSITIVE_INFINITY;
  let tookAt = clock.now();
  const look = () => {
    timer = undefined;
    // Finished: all of it went to the kernel, and the process holds none of it any more.
    if (response.writableFinished) return;
    const now = clock.now();
    if (response.writableLength < left) {
      left = response.writableLength;
      tookAt = now;
    } else if (now - tookAt >= stallMs) {
      onStall();
      return;
    }
    timer = clock.setTimeout(look, stallMs / LOOKS_PER_STALL);
    timer.unref?.();
  };
  timer = clock.setTimeout(look, stallMs / LOOKS_PER_STALL);
  timer.unref?.();
  return () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
}

/** Destroys `response` once its client has taken none of what is left for `stallMs`. */
export function closeWhenStalled(response: Writable, stallMs: number, clock: Clock): void {
  const stop = watchReader(response, stallMs, clock, () => response.destroy());
  response.once('finish', stop);
  response.once('close', stop);
}
