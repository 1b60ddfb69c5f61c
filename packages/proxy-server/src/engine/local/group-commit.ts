/** What to do once the writes of one batch are committed, or could not be. */
export interface AfterCommit {
  committed(): void;
  failed(error: unknown): void;
}

/**
 * Group commit for a durable repository: the steps queued in one turn of the event loop wait
 * for one commit of everything written before them, then run. A store that is not durable
 * has nothing to wait for, so its steps run at once.
 */
export class GroupCommit {
  readonly #durable: boolean;
  readonly #commit: () => void;
  readonly #outcome: { succeeded(): void; failed(error: unknown): void };
  #batch: AfterCommit[] = [];
  #scheduled = false;

  /**
   * @param commit commits what the repository wrote since the last commit; throws when it cannot
   * @param outcome told of each commit that succeeded or failed (the backend's health)
   */
  constructor(
    durable: boolean,
    commit: () => void,
    outcome: { succeeded(): void; failed(error: unknown): void },
  ) {
    this.#durable = durable;
    this.#commit = commit;
    this.#outcome = outcome;
  }

  after(step: AfterCommit): void {
    if (!this.#durable) {
      this.#outcome.succeeded();
      step.committed();
      return;
    }
    this.#batch.push(step);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits the batch, then runs what waited for it; repeats while that wrote more. */
  flush(): void {
    this.#scheduled = false;
    while (this.#batch.length > 0) {
      const batch = this.#batch;
      this.#batch = [];
      try {
        this.#commit();
      } catch (error) {
        this.#outcome.failed(error);
        for (const step of batch) step.failed(error);
        return;
      }
      this.#outcome.succeeded();
      for (const step of batch) step.committed();
    }
  }
}
