import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import fp from 'fastify-plugin';
import type { Clock, Timer } from '../clock.js';

/**
 * Answers up to this size go out in one write, as Fastify sends them; a bigger one goes in
 * pieces of this size, each handed to the socket once the one before has left, so the proxy
 * sees the client read.
 */
const PIECE_BYTES = 64 * 1024;

/**
 * Closes the connection of a client that leaves a big answer unread for `stallMs`: otherwise it
 * keeps its socket and a copy of the answer (a result of up to --result-size-limit, read afresh
 * for each request) for as long as it likes, and a hundred such clients hold a hundred copies.
 * A client that reads, however slowly, is left alone: each piece it takes restarts the wait.
 * Event streams are not Fastify's to send (hijacked); they bound their own unread bytes.
 */
export const unreadAnswers = fp<{ stallMs: number; clock: Clock }>(
  async (app, { stallMs, clock }) => {
    // A callback, not an async hook: it runs for every answer, and most are small.
    app.addHook('onSend', (request, reply, payload, done) => {
      const size =
        typeof payload === 'string'
          ? Buffer.byteLength(payload)
          : Buffer.isBuffer(payload)
            ? payload.length
            : 0;
      if (request.method === 'HEAD' || size <= PIECE_BYTES) {
        done(null, payload);
        return;
      }
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload as string, 'utf8');
      // A stream is sent chunked unless it is given a length.
      if (!reply.hasHeader('content-length')) reply.header('content-length', bytes.length);
      done(null, inPieces(bytes, reply.raw, stallMs, clock));
    });
  },
  { name: 'unread-answers', fastify: '5.x' },
);

function inPieces(
  bytes: Buffer,
  response: ServerResponse,
  stallMs: number,
  clock: Clock,
): Readable {
  let timer: Timer | undefined;
  const stop = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
  };
  const restart = () => {
    stop();
    // Until the last byte has left, not the last piece: it may wait in the socket as long.
    timer = clock.setTimeout(() => response.destroy(), stallMs);
    timer.unref?.();
  };
  response.once('finish', stop);
  response.once('close', stop);
  restart();
  let offset = 0;
  return new Readable({
    read() {
      restart();
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      const piece = bytes.subarray(offset, offset + PIECE_BYTES);
      offset += piece.length;
      this.push(piece);
    },
  });
}
