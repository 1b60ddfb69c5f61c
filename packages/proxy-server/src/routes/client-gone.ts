/** Aborts when the client closes the connection before the answer is sent. */
export function clientGone(response: NodeJS.EventEmitter): AbortSignal {
  const gone = new AbortController();
  response.once('close', () => gone.abort(new Error('the client went away')));
  return gone.signal;
}
