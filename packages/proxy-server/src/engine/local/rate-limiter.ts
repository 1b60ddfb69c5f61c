/**
 * A token bucket: `perSecond` tokens a second, at most `burst` saved up. Each upstream call
 * takes one, so the target sees at most `burst` calls at once after a quiet spell and
 * `perSecond` a second over any longer stretch.
 */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, burst: number, now: number) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /**
   * Whether a token is there now. Checked before a task is chosen and taken (`take`) only once
   * a call starts: a turn that starts none (every queued tenant at its cap) must cost nothing.
   */
  hasToken(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Spends the token `hasToken` found, for a call that starts now. */
  take(now: number): void {
    this.#refill(now);
    this.#tokens--;
  }

  /** When the next token will be there. */
  nextTokenAt(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? now : now + Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
  }
}
