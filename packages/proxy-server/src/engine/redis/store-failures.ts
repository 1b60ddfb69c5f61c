import { type StoreUnavailableError, storeUnavailable } from '../store-unavailable.js';

/** The store's last failure, until an operation succeeds again: what `health()` reports. */
export class StoreFailures {
  readonly #onError: ((error: unknown, doing: string) => void) | undefined;
  #message: string | null = null;

  constructor(onError?: (error: unknown, doing: string) => void) {
    this.#onError = onError;
  }

  get message(): string | null {
    return this.#message;
  }

  /** Notes that `doing` failed and gives the error a backend throws for it. */
  failed(error: unknown, doing: string): StoreUnavailableError {
    const reason = error instanceof Error ? error.message : String(error);
    this.#message = `the task store failed ${doing}: ${reason}`;
    this.#onError?.(error, doing);
    return storeUnavailable(`the task store failed ${doing}`, error);
  }

  succeeded(): void {
    this.#message = null;
  }
}
