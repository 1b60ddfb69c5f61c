import fp from 'fastify-plugin';
import type { Clock } from '../clock.js';
import { closeWhenStalled } from '../stalled-reader.js';

/** Answers up to this size are not watched: a client that leaves one unread holds little. */
const WATCHED_BYTES = 64 * 1024;

/**
 * Closes the connection of a client that takes nothing of a big answer for `stallMs`: otherwise
 * it keeps its socket and a copy of the answer (a result of up to --result-size-limit, read
 * afresh for each request) for as long as it likes, and a hundred such clients hold a hundred
 * copies. A client that reads, however slowly, is left alone: any byte it takes restarts the
 * wait. The answer still goes out in one write, as Fastify sends it (sending it in pieces cost
 * list pages over 64 KiB about 2 ms at p99); the watch only looks at what is left to send.
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
      if (request.method !== 'HEAD' && size > WATCHED_BYTES)
        closeWhenStalled(reply.raw, stallMs, clock);
      done(null, payload);
    });
  },
  { name: 'unread-answers', fastify: '5.x' },
);
