import type { IncomingMessage } from 'node:http';

/** Most of a refused body read and dropped; past it, the connection is closed mid-upload. */
const MOST_DRAINED_BYTES = 64 * 1024 * 1024;

/**
 * Reads the rest of a body refused for its size, or answered before it came (a 401, a 400 for the
 * path), and drops it, so that the connection can stay open: Fastify closes it after an error in
 * a body, and a socket closed with bytes unread is reset by the kernel, answer and all. A client
 * that sends its whole body before it reads an answer (Node's fetch, so the SDK and the CLI) got
 * EPIPE instead of the 413, every streamed upload and some with a Content-Length. Gives false,
 * leaving the close, for a body announced larger than the bound, or already read whole.
 */
export function drainRefusedBody(request: IncomingMessage): boolean {
  if (request.complete) return false;
  const { socket } = request;
  if (draining.has(socket)) return true;
  if (Number(request.headers['content-length'] ?? 0) > MOST_DRAINED_BYTES) return false;
  draining.add(socket);
  let drained = 0;
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MOST_DRAINED_BYTES) socket.destroy();
  });
  request.once('end', () => draining.delete(socket));
  return true;
}

/** Sockets whose request was answered while its body is still read. */
const draining = new WeakSet<object>();

/** A stall or a bad chunk in a body already answered gets no second answer: the socket closes. */
export function isDrainingRefusedBody(socket: object): boolean {
  return draining.has(socket);
}
