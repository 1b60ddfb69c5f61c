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
  // Each look compares with the one before; the first sets the mark, as a watch may start
  // before what it watches is written. Bytes added meanwhile (a heartbeat) are not progress.
  let left = Number.POSITIVE_INFINITY;
  let inKernelQueue = Number.POSITIVE_INFINITY;
  let tookAt = clock.monotonic();
  const look = () => {
    timer = undefined;
    // Finished: all of it went to the kernel, and the process holds none of it any more.
    if (response.writableFinished) return;
    // Monotonic: a wall clock set back would keep a stalled reader for as long as the step, one
    // stepped forward would cut off a reader that paused for one look.
    const now = clock.monotonic();
    const length = response.writableLength;
    const queued = queuedInSocket(response);
    if (length < left || queued < inKernelQueue) tookAt = now;
    else if (now - tookAt >= stallMs) {
      onStall();
      return;
    }
    left = length;
    inKernelQueue = queued;
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

/**
 * What the socket's handle still holds of the writes handed to it. `writableLength` falls only
 * once a whole write is done, so a big answer or message, written at once, is seen to go out
 * only here (Node's own socket timeout looks at the same number). Not a public property: where
 * it is missing, the watch sees whole writes only.
 */
function queuedInSocket(response: Writable): number {
  const { socket } = response as { socket?: { _handle?: { writeQueueSize?: number } | null } };
  return socket?._handle?.writeQueueSize ?? 0;
}

/** Destroys `response` once its client has taken none of what is left for `stallMs`. */
export function closeWhenStalled(response: Writable, stallMs: number, clock: Clock): void {
  const stop = watchReader(response, stallMs, clock, () => response.destroy());
  response.once('finish', stop);
  response.once('close', stop);
}
