/**
 * The store can be reached but refuses this proxy as configured (a Redis database that does not
 * exist). Like a bad data dir, it is the operator's to fix: the start fails with one line and
 * exit 2, and nothing is written.
 */
export class StoreRefusedError extends Error {
  override readonly name = 'StoreRefusedError';
}

export function isStoreRefusedError(error: unknown): error is StoreRefusedError {
  return error instanceof Error && error.name === 'StoreRefusedError';
}
