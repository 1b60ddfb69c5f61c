/** The request an `Idempotency-Key` was first used with, or is used with now. */
export interface KeyedRequest {
  readonly method: string;
  readonly path: string;
}

/**
 * The `idempotency_key_reused` message. It names what differs from the key's first request
 * where the proxy can tell: a caller who reused a key by mistake learns which request holds it,
 * and one whose retry changed its body learns that the body (or its type) is what broke the
 * match. `earlier` is undefined when the first task could not be read (removed since, or the
 * store unavailable): the refusal stands, without the detail.
 */
export function idempotencyConflictMessage(
  taskId: string,
  now: KeyedRequest,
  earlier: KeyedRequest | undefined,
): string {
  const advice = 'use a new key for a new request';
  if (earlier === undefined) {
    return `This Idempotency-Key was used for task ${taskId} with another request; ${advice}`;
  }
  const first = `${earlier.method} ${earlier.path}`;
  const second = `${now.method} ${now.path}`;
  const difference =
    first === second
      ? `the same ${first} with another body or Content-Type`
      : `${first}, not ${second}`;
  return `This Idempotency-Key was used for task ${taskId} with another request (${difference}); ${advice}`;
}
