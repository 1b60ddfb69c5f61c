import type { FastifyReply } from 'fastify';
import type { Clock, Timer } from '../clock.js';
import { closeWhenStalled, watchReader } from '../stalled-reader.js';

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
  /**
   * How long a client may take no byte of what was sent before it is closed, while messages wait
   * behind what was written ahead, or after the end while some of the last message is unsent: a
   * client that stopped reading a task's last message (which carries the result) would otherwise
   * hold it, and its socket, for good. One that reads, however slowly, is left alone.
   */
  stallMs: number;
}

/** Sends a message or two when its turn comes, reading what it needs first. */
export type Step = () => void | Promise<void>;

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
  /**
   * What waits for the client to read, in order: messages, and steps that send (and may first
   * read the store). A message waits as the string itself, shared by every stream it goes to:
   * with a promise per message and stream, hundreds of streams a burst behind ran the heap out.
   */
  #waiting: (string | Step)[] = [];
  #next = 0;
  /** True while `#pump` sends what waits: nothing may overtake it meanwhile. */
  #pumping = false;
  #corked = false;
  /**
   * Resolved by the socket's next 'drain' (or the close) while what waits waits for one, with the
   * watch that closes a client that stopped reading meanwhile.
   */
  #drain: { promise: Promise<void>; resolve: () => void; stopWatch: () => void } | null = null;

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
    // A HEAD wants the headers alone: a stream left open would hold its connection for good.
    if (reply.request.method === 'HEAD') raw.end();
    // Its client may have left while the route read the store: no 'close' will come.
    if (raw.destroyed || raw.writableEnded) this.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `callback` once when the stream ends, whoever ends it. */
  onClose(callback: () => void): void {
    if (this.#closed) callback();
    else this.#onClose.push(callback);
  }

  /** Sends now, ahead of what waits: for a step's own messages, and a stream's first. */
  send(message: StreamMessage): void {
    if (!this.#closed) this.#write(sseFrame(message));
  }

  /**
   * Sends a message built by `sseFrame` after what waits already, once the client has read all
   * but `WRITE_AHEAD_BYTES` of what was sent: at once when it keeps up, and a replay of
   * thousands of missed events goes out as fast as the client reads it instead of all at once
   * into the socket.
   */
  queueFrame(frame: string): void {
    if (this.#closed) return;
    if (!this.#pumping && this.#reply.raw.writableLength <= WRITE_AHEAD_BYTES) this.#write(frame);
    else this.#wait(frame);
  }

  /**
   * Runs `step` (which sends) after what waits already, as `queueFrame` sends a message. A
   * client that falls `maxQueuedMessages` behind is closed; a step that throws closes the stream.
   */
  queue(step: Step): void {
    if (!this.#closed) this.#wait(step);
  }

  /** Ends the stream once what waits has gone out: a shutdown's last messages. */
  finish(): void {
    if (this.#closed) return;
    if (this.#pumping) this.#wait(() => this.end());
    else this.end();
  }

  /** Ends the stream from this side (the last message was sent). */
  end(): void {
    if (this.#closed) return;
    // Written out before the end: Node 24 ends a corked response without what it holds.
    this.#uncork();
    const raw = this.#reply.raw;
    raw.end();
    // The end waits behind what the client has not read yet: a client that reads none of it
    // would keep its socket open for good.
    if (!raw.writableFinished) closeWhenStalled(raw, this.#options.stallMs, this.#options.clock);
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

  #wait(item: string | Step): void {
    if (this.#waiting.length - this.#next >= this.#options.maxQueuedMessages) {
      this.close();
      return;
    }
    this.#waiting.push(item);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed && this.#next < this.#waiting.length) {
        if (this.#reply.raw.writableLength > WRITE_AHEAD_BYTES) await this.#writable();
        if (this.#closed) break;
        const item = this.#waiting[this.#next] as string | Step;
        this.#next++;
        if (typeof item === 'string') this.#write(item);
        else await item();
        // What was sent goes, now and then: the array would otherwise grow for as long as the
        // client stays a little behind.
        if (this.#next >= 1024) {
          this.#waiting = this.#waiting.slice(this.#next);
          this.#next = 0;
        }
      }
    } catch {
      this.close();
    } finally {
      this.#pumping = false;
      this.#waiting = [];
      this.#next = 0;
    }
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#reply.raw.uncork();
  }

  #writable(): Promise<void> {
    if (this.#reply.raw.writableLength <= WRITE_AHEAD_BYTES) return Promise.resolve();
    if (!this.#drain) {
      const { stallMs, clock } = this.#options;
      const stopWatch = watchReader(this.#reply.raw, stallMs, clock, () => this.close());
      let resolve = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.#drain = { promise, resolve, stopWatch };
    }
    return this.#drain.promise;
  }

  #drained(): void {
    const drain = this.#drain;
    this.#drain = null;
    drain?.stopWatch();
    drain?.resolve();
  }

  #write(text: string): void {
    const raw = this.#reply.raw;
    // What the client left unread before this message counts, not the message itself: a task
    // whose result is larger than the limit is still sent to a client that keeps up.
    if (raw.writableLength > this.#options.maxUnreadBytes) {
      this.close();
      return;
    }
    // Messages written in one turn of the event loop leave in one write: a burst of events to
    // hundreds of streams costs a system call per stream and turn, not per message and stream.
    if (!this.#corked) {
      this.#corked = true;
      raw.cork();
      setImmediate(() => this.#uncork());
    }
    raw.write(text);
  }

  #beat(): void {
    this.#heartbeat = this.#options.clock.setTimeout(() => {
      // Bytes on their way keep the connection from looking idle, and a heartbeat behind a
      // message over maxUnreadBytes would close a client that is reading it.
      if (this.#reply.raw.writableLength <= WRITE_AHEAD_BYTES) this.#write(': heartbeat\n\n');
      if (!this.#closed) this.#beat();
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref?.();
  }
}
