/** Time and timers, injected so tests can drive them; `systemClock` outside tests. */
export interface Clock {
  /** The wall clock, ms since the epoch: what timestamps show. NTP or an operator may step it. */
  now(): number;
  /** Ms from an arbitrary origin, never stepped: what waits within this process are measured on. */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

/**
 * What to add to a wall-clock moment (a stored deadline or retry time) to wait for it on the
 * monotonic clock, as the clocks stand now: a step of the wall clock afterwards then neither
 * brings the wait forward nor holds it back.
 */
export function wallToMonotonic(clock: Clock): number {
  return clock.monotonic() - clock.now();
}

/** A pending timer; `unref` lets the process exit while it waits. */
export interface Timer {
  unref?(): unknown;
}

/** The longest delay Node's setTimeout takes; a longer one fires after 1 ms, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer past MAX_TIMER_MS (a deadline a year off), made of several in a row. */
class LongTimer implements Timer {
  #timer: NodeJS.Timeout;
  #unref = false;

  constructor(callback: () => void, ms: number) {
    this.#timer = this.#arm(callback, ms);
  }

  #arm(callback: () => void, ms: number): NodeJS.Timeout {
    const step = Math.min(ms, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      if (step === ms) callback();
      else this.#timer = this.#arm(callback, ms - step);
    }, step);
    if (this.#unref) timer.unref();
    return timer;
  }

  unref(): this {
    this.#unref = true;
    this.#timer.unref();
    return this;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) =>
    ms > MAX_TIMER_MS ? new LongTimer(callback, ms) : setTimeout(callback, ms),
  clearTimeout: (timer) => {
    if (timer instanceof LongTimer) timer.clear();
    else clearTimeout(timer as NodeJS.Timeout);
  },
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
