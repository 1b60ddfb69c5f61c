import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../errors.js';

/** Node's own link from a socket to the answer being written on it. */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Each answer's end, which the requests pipelined behind it share: one pair of listeners. */
const ends = new WeakMap<ServerResponse, Promise<void>>();

function endOf(response: ServerResponse): Promise<void> {
  let ended = ends.get(response);
  if (!ended) {
    ended = new Promise((resolve) => {
      // Node's own 'finish' listener, added first, ends the connection or hands it on.
      response.once('finish', resolve);
      response.once('close', resolve);
    });
    ends.set(response, ended);
  }
  return ended;
}

/**
 * Resolves once the answers to the requests before this one on its connection are sent: true
 * when this one can be answered then, false when one of them closed the connection (a refusal
 * with `Connection: close`). A task created, cancelled or cleaned up for a request pipelined
 * behind such a refusal would take effect, and its caller, told nothing, would send it again.
 */
export async function turnToAnswer(response: ServerResponse): Promise<boolean> {
  // Not every socket is a net.Socket: Fastify's inject() has one with neither property.
  const socket = response.req.socket as Partial<HttpSocket>;
  for (;;) {
    if (socket.destroyed === true || socket.writable === false) return false;
    const current = socket._httpMessage;
    if (!current || current === response) return true;
    await endOf(current);
  }
}

/**
 * A route's `preHandler` for a request that changes something (a submission, a retry, a cancel,
 * a cleanup): it waits for its turn, and on a connection an earlier answer closed it is refused,
 * changing nothing (the refusal reaches no one; it ends the request for Fastify).
 */
export async function inItsTurn(
  _request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  if (await turnToAnswer(reply.raw)) return undefined;
  return sendError(reply, 'bad_request', 'An earlier request on this connection closed it');
}
