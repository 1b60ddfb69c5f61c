import type { Clock, Timer } from '../clock.js';

/**
 * One timer for the earliest moment something falls due (a deadline, a retry, a token of the
 * rate limit): asking for a later moment keeps the earlier one, an earlier one replaces it.
 * It does not keep the process alive. Moments are readings of the clock's monotonic time.
 */
export class WakeTimer {
  readonly #clock: Clock;
  readonly #wake: () => void;
  #timer: Timer | null = null;
  #due: number | null = null;

  constructor(clock: Clock, wake: () => void) {
    this.#clock = clock;
    this.#wake = wake;
  }

  at(due: number): void {
    if (this.#due !== null && this.#due <= due) return;
    this.cancel();
    this.#due = due;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = null;
        this.#due = null;
        this.#wake();
      },
      Math.max(0, due - this.#clock.monotonic()),
    );
    this.#timer.unref?.();
  }

  cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#due = null;
  }
}
