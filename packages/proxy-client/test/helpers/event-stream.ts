import type { RecordedCall, ReplySpec } from './test-server.js';

/**
 * An event stream a test writes to as the proxy would: `send` a message, a `comment` (the
 * heartbeat), then `end` it as the server does after the last message, or `drop` the
 * connection. `opened` resolves once the client has the answer; `cancelled` once the client
 * closed the connection (aborted its request: MSW hands the client a copy of the body, so the
 * request's signal is what tells).
 */
export class TestEventStream {
  readonly #encoder = new TextEncoder();
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #markOpened: () => void = () => {};
  #markCancelled: () => void = () => {};
  readonly opened = new Promise<void>((resolve) => {
    this.#markOpened = resolve;
  });
  readonly cancelled = new Promise<void>((resolve) => {
    this.#markCancelled = resolve;
  });
  isCancelled = false;

  reply(call: RecordedCall, headers: Record<string, string> = {}): ReplySpec {
    const closed = () => {
      this.isCancelled = true;
      this.#markCancelled();
    };
    if (call.signal.aborted) closed();
    else call.signal.addEventListener('abort', closed, { once: true });
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        this.#markOpened();
      },
      cancel: closed,
    });
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', ...headers },
      stream,
    };
  }

  send(event: string, data: unknown, id?: string): void {
    const line = id === undefined ? '' : `id: ${id}\n`;
    this.write(`${line}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text = 'heartbeat'): void {
    this.write(`: ${text}\n\n`);
  }

  write(text: string): void {
    this.#controller?.enqueue(this.#encoder.encode(text));
  }

  end(): void {
    this.#controller?.close();
  }

  drop(): void {
    this.#controller?.error(new TypeError('terminated'));
  }
}
