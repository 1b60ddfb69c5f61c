import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One Server-Sent Events message: `event:`, `id:` and `data:` as the server wrote them. */
export type SseMessage = EventSourceMessage;

export interface ReadSettings {
  /**
   * Stops reading when it aborts. Not every `fetch` ends a body it already handed over when its
   * signal aborts, so the reader is cancelled here too.
   */
  signal: AbortSignal;
  /**
   * Milliseconds without a byte (message or heartbeat comment) after which the connection is
   * taken for dead: a half-open connection would otherwise hang the reader for ever.
   */
  idleTimeoutMs: number;
  /** The server's `retry:` field: how long to wait before reconnecting, in milliseconds. */
  onRetry?: (ms: number) => void;
  /** Told of every chunk, heartbeats included: the connection is alive. */
  onBytes?: () => void;
}

/** Why a stream stopped without the reader asking it to: the server ended it, or it fell silent. */
export class StreamEnded extends Error {
  override name = 'StreamEnded';
  constructor(
    readonly reason: 'closed' | 'idle' | 'broken',
    options?: { cause?: unknown },
  ) {
    super(`the event stream ${reason === 'idle' ? 'fell silent' : reason}`, options);
  }
}

/**
 * The messages of a `text/event-stream` body, parsed by eventsource-parser from the bytes of a
 * `fetch` body (no Node API, so it runs wherever `fetch` does). Ends by throwing `StreamEnded`
 * when the server closes the stream, the connection breaks or falls silent; stopping the
 * iteration cancels the body, which closes the connection.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  settings: ReadSettings,
): AsyncGenerator<SseMessage, never, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parsed: SseMessage[] = [];
  const parser = createParser({
    onEvent: (message) => parsed.push(message),
    ...(settings.onRetry ? { onRetry: settings.onRetry } : {}),
  });
  const stop = () => void reader.cancel().catch(() => {});
  let idle = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      reader.cancel().catch(() => {});
    }, settings.idleTimeoutMs);
  };
  settings.signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      if (settings.signal.aborted)
        throw new StreamEnded('broken', { cause: settings.signal.reason });
      arm();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new StreamEnded(idle ? 'idle' : 'broken', { cause: error });
      }
      // Silence is the server's, not the time the caller takes over a message.
      clearTimeout(timer);
      if (chunk.done) throw new StreamEnded(idle ? 'idle' : 'closed');
      settings.onBytes?.();
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      while (parsed.length > 0) yield parsed.shift() as SseMessage;
    }
  } finally {
    clearTimeout(timer);
    settings.signal.removeEventListener('abort', stop);
    // Not awaited: cancelling one branch of a teed body waits for the other (streams spec).
    stop();
  }
}
