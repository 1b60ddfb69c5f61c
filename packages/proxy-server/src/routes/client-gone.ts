import type { ServerResponse } from 'node:http';

/**
 * Aborts when the client closes the connection before the answer is sent; at once when it has
 * already (routes ask after an await, and the answer's 'close' comes only once).
 */
export function clientGone(response: ServerResponse): AbortSignal {
  const gone = new AbortController();
  if (response.destroyed) gone.abort(new Error('the client went away'));
  else response.once('close', () => gone.abort(new Error('the client went away')));
  return gone.signal;
}
