import type { FastifyReply } from 'fastify';
import type { Clock, Timer } from '../clock.js';

export interface EventStreamOptions {
  clock: Clock;
  /** A comment line this often keeps proxies and browsers from closing an idle stream. */
  heartbeatMs: number;
  /**
   * Bytes a client may leave unread before the stream is closed: a reader that stopped
   * reading must not make the proxy hold everything meanwhile. It reconnects with
   * `Last-Event-ID` and resumes.
   */
  maxUnreadBytes: number;
  /**
   * Messages queued behind a client that reads slower than events come: past this many the
   * stream is closed, as for unread bytes. Twice the backends' default event window, so a
   * resume after a whole window's worth of missed events fits.
   */
  maxQueuedMessages: number;
}

export interface StreamMessage {
  /** The backend's event id, which the client sends back as `Last-Event-ID`. */
  id?: string | undefined;
  event: string;
  data: unknown;
}

/** A message as it goes on the wire; built once when many streams send the same one. */
export function sseFrame(message: StreamMessage): string {
  const id = message.id === undefined ? '' : `id: ${message.id}\n`;
  return `${id}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/**
 * Bytes the server writes ahead of a reader before it waits for the socket to drain: enough to
 * keep a reading client busy, far below `maxUnreadBytes`.
 */
const WRITE_AHEAD_BYTES = 64 * 1024;

/**
 * A Server-Sent Events answer on a hijacked reply: the headers Fastify's hooks set (CORS), then
 * messages, heartbeats, and an end. Once the client goes, `onClose` callbacks run at once so no
 * listener stays behind.
 */
export class EventStream {
  readonly #reply: FastifyReply;
  readonly #options: EventStreamOptions;
  readonly #onClose: (() => void)[] = [];
  #heartbeat: Timer | null = null;
  #closed = false;
  /** Steps run in order: each message leaves after the ones queued before it. */
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #corked = false;
  /** Resolved by the socket's next 'drain' (or the close), while a step waits for one. */
  #drain: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(reply: FastifyReply, options: EventStreamOptions) {
    this.#reply = reply;
    this.#options = options;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : value;
    }
    Object.assign(headers, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, headers);
    raw.flushHeaders();
    raw.on('close', () => this.close());
    raw.on('drain', () => this.#drained());
    this.#beat();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `callback` once when the stream ends, whoever ends it. */
  onClose(callback: () => void): void {
    if (this.#closed) callback();
    else this.#onClose.push(callback);
  }

  send(message: StreamMessage): void {
    this.sendFrame(sseFrame(message));
  }

  /** Sends a message built by `sseFrame`. */
  sendFrame(frame: string): void {
    if (!this.#closed) this.#write(frame);
  }

  /** Nothing queued and the client keeping up: a message may go out now, in order. */
  get idle(): boolean {
    return this.#queued === 0 && this.#reply.raw.writableLength <= WRITE_AHEAD_BYTES;
  }

  /**
   * Runs `step` (which sends) after the steps queued before it, once the client has read all
   * but `WRITE_AHEAD_BYTES` of what was sent: a replay of thousands of missed events goes out
   * as fast as the client reads it instead of all at once into the socket. A client that falls
   * `maxQueuedMessages` behind is closed; a step that throws closes the stream.
   */
  queue(step: () => void | Promise<void>): void {
    if (this.#closed) return;
    if (this.#queued >= this.#options.maxQueuedMessages) {
      this.close();
      return;
    }
    this.#queued++;
    this.#chain = this.#chain
      .then(async () => {
        if (this.#closed) return;
        await this.#writable();
        if (!this.#closed) await step();
      })
      .catch(() => this.close())
      .finally(() => {
        this.#queued--;
      });
  }

  /** Ends the stream from this side (the last message was sent). */
  end(): void {
    if (this.#closed) return;
    // Written out before the end: Node 24 ends a corked response without what it holds.
    this.#uncork();
    this.#reply.raw.end();
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#drained();
    if (this.#heartbeat !== null) this.#options.clock.clearTimeout(this.#heartbeat);
    if (!this.#reply.raw.writableEnded) this.#reply.raw.destroy();
    for (const callback of this.#onClose.splice(0)) callback();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#reply.raw.uncork();
  }

  #writable(): Promise<void> {
    if (this.#reply.raw.writableLength <= WRITE_AHEAD_BYTES) return Promise.resolve();
    if (!this.#drain) {
      let resolve = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.#drain = { promise, resolve };
    }
    return this.#drain.promise;
  }

  #drained(): void {
    const drain = this.#drain;
    this.#drain = null;
    drain?.resolve();
  }

  #write(text: string): void {
    const raw = this.#reply.raw;
    // Messages written in one turn of the event loop leave in one write: a burst of events to
    // hundreds of streams costs a system call per stream and turn, not per message and stream.
    if (!this.#corked) {
      this.#corked = true;
      raw.cork();
      setImmediate(() => this.#uncork());
    }
    raw.write(text);
    if (raw.writableLength > this.#options.maxUnreadBytes) this.close();
  }

  #beat(): void {
    this.#heartbeat = this.#options.clock.setTimeout(() => {
      this.#write(': heartbeat\n\n');
      if (!this.#closed) this.#beat();
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref?.();
  }
}
