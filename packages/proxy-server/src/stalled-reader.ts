import type { ServerResponse } from 'node:http';
import type { Clock, Timer } from './clock.js';

/** How many times per stall period the watch looks at what the client has taken. */
const LOOKS_PER_STALL = 4;

/**
 * Destroys `response` once its client has taken none of what is left to send for `stallMs`;
 * any byte it takes starts the wait again, so a slow reader keeps its connection. Stops by
 * itself when all of it has gone to the kernel or the response closes.
 */
export function closeWhenStalled(response: ServerResponse, stallMs: number, clock: Clock): void {
  let timer: Timer | undefined;
  let left = Number.POSITIVE_INFINITY;
  let tookAt = clock.now();
  const stop = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
  };
  const look = () => {
    const socket = response.socket;
    // Finished: all of it went to the kernel, and the process holds none of it any more.
    if (socket === null || response.writableFinished) return;
    const now = clock.now();
    if (socket.writableLength < left) {
      left = socket.writableLength;
      tookAt = now;
    } else if (now - tookAt >= stallMs) {
      response.destroy();
      return;
    }
    timer = clock.setTimeout(look, stallMs / LOOKS_PER_STALL);
    timer.unref?.();
  };
  response.once('finish', stop);
  response.once('close', stop);
  timer = clock.setTimeout(look, stallMs / LOOKS_PER_STALL);
  timer.unref?.();
}
