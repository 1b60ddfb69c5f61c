import { setMaxListeners } from 'node:events';

/** Whether the proxy still takes work; shared by the units that must refuse once it stops. */
export class Lifecycle {
  #shuttingDown = false;
  readonly #waitsOver = new AbortController();

  constructor() {
    // Every waiting read listens on it: thousands of listeners are expected, not a leak.
    setMaxListeners(0, this.#waitsOver.signal);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Aborts once the shutdown has let calls in flight end: reads still waiting for a finish then
   * answer with the task as it is, instead of holding the server open.
   */
  get waitsOver(): AbortSignal {
    return this.#waitsOver.signal;
  }

  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  endWaits(): void {
    this.#waitsOver.abort(new Error('the proxy is shutting down'));
  }
}
