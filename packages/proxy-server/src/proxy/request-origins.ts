/**
 * Which request is about to change a task (a submission creates it, `DELETE /task/:id` cancels
 * it), so that the log line of the transition can name the request id. The request registers
 * before it calls the backend, the task log takes the id when the transition is told. Entries a
 * transition never came for (a refused admission, a cancel of a finished task) are forgotten by
 * whoever registered them; a backend that tells transitions late (another process's store) may
 * leave a few, so the oldest go past `limit`.
 */
export class RequestOrigins {
  readonly #byTask = new Map<string, string>();

  /** `enabled` false (the log level leaves out the lines that would use them) costs nothing. */
  constructor(
    readonly enabled: boolean,
    private readonly limit = 10_000,
  ) {}

  expect(taskId: string, requestId: string | undefined): void {
    if (!this.enabled || requestId === undefined) return;
    if (this.#byTask.size >= this.limit) {
      const oldest = this.#byTask.keys().next().value;
      if (oldest !== undefined) this.#byTask.delete(oldest);
    }
    this.#byTask.set(taskId, requestId);
  }

  /** The request behind the transition being told now, once; undefined when none. */
  take(taskId: string): string | undefined {
    if (this.#byTask.size === 0) return undefined;
    const requestId = this.#byTask.get(taskId);
    if (requestId !== undefined) this.#byTask.delete(taskId);
    return requestId;
  }

  forget(taskId: string): void {
    if (this.#byTask.size !== 0) this.#byTask.delete(taskId);
  }

  /** Entries held now (tests: back to 0 once every transition was told). */
  get size(): number {
    return this.#byTask.size;
  }
}
