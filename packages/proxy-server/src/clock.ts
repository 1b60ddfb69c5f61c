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

/**
 * Whether something noted `at` is still within `ms` of `now`. A clock set back makes the age
 * negative: that counts as stale, or a cached answer would stand for as long as the step.
 */
export function isWithin(at: number, now: number, ms: number): boolean {
  const age = now - at;
  return age >= 0 && age < ms;
}
