/**
 * The task store cannot be read or written right now (disk full, file locked, Redis down). The
 * proxy answers 503 `store_unavailable` with a Retry-After; nothing already accepted is lost.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /**
   * The cause will not pass by itself (a damaged file): no Retry-After is offered, since a
   * client that honoured it would wait for ever.
   */
  readonly lasting: boolean;

  constructor(message: string, options?: { cause?: unknown; lasting?: boolean }) {
    super(message, options);
    this.lasting = options?.lasting ?? false;
  }
}

export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return error instanceof Error && error.name === 'StoreUnavailableError';
}

/** SQLite's word that a file is damaged or no database (extended codes too: SQLITE_CORRUPT_INDEX...). */
export function isDamagedDatabaseError(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)(_|$)/.test(code);
}

/** Wraps whatever a store threw, keeping it as the cause. */
export function storeUnavailable(what: string, error: unknown): StoreUnavailableError {
  if (isStoreUnavailableError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`${what}: ${reason}`, { cause: error });
}
