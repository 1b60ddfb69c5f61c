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
}

export interface StreamMessage {
  /** The backend's event id, which the client sends back as `Last-Event-ID`. */
  id?: string | undefined;
  event: string;
  data: unknown;
}

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
    if (this.#closed) return;
    const id = message.id === undefined ? '' : `id: ${message.id}\n`;
    this.#write(`${id}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`);
  }

  /** Ends the stream from this side (the last message was sent). */
  end(): void {
    if (this.#closed) return;
    this.#reply.raw.end();
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat !== null) this.#options.clock.clearTimeout(this.#heartbeat);
    if (!this.#reply.raw.writableEnded) this.#reply.raw.destroy();
    for (const callback of this.#onClose.splice(0)) callback();
  }

  #write(text: string): void {
    const raw = this.#reply.raw;
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
