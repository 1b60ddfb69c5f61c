import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What a request behind such a refusal is answered, on a connection that takes no more. */
export const CLOSED_BEFORE_ITS_TURN =
  'An earlier request on this connection closed it: send this one again on another';

/** Node's own link from a socket to the answer being written on it. */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Resolves once the answers to the requests before this one on its connection are sent: true
 * when this one can be answered then, false when one of them closed the connection (a refusal
 * with `Connection: close`). A task created for a request pipelined behind such a refusal would
 * run, and its caller, told nothing, would send it again.
 */
export async function turnToAnswer(response: ServerResponse): Promise<boolean> {
  const socket = response.req.socket as HttpSocket;
  for (;;) {
    if (socket.destroyed || !socket.writable) return false;
    const current = socket._httpMessage;
    if (!current || current === response) return true;
    // Node's own 'finish' listener, added first, ends the connection or hands it on.
    await new Promise((resolve) => {
      current.once('finish', resolve);
      current.once('close', resolve);
    });
  }
}
