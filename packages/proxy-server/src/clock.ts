/** Time and timers, injected so tests can drive them; `systemClock` outside tests. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

/** A pending timer; `unref` lets the process exit while it waits. */
export interface Timer {
  unref?(): unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Waits for `work`, or `ms` on `clock`, whichever comes first; the timer goes either way. */
export async function waitAtMost(work: Promise<unknown>, ms: number, clock: Clock): Promise<void> {
  let timer: Timer | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, ms);
    }),
  ]);
  if (timer) clock.clearTimeout(timer);
}

/**
 * Whether something noted `at` is still within `ms` of `now`. A clock set back makes the age
 * negative: that counts as stale, or a cached answer would stand for as long as the step.
 */
export function isWithin(at: number, now: number, ms: number): boolean {
  const age = now - at;
  return age >= 0 && age < ms;
}
