/**
 * A caller's `ReadableStream` body is read by fetch as it sends it, and fetch reports the
 * stream's own failure ("disk gone") as the TypeError of a broken connection ("fetch failed").
 * Read through a stream of the SDK's own, its failure is kept, so that it can be told apart:
 * it is the caller's, not the proxy's, and asking again would not help.
 */
export interface WatchedBody {
  /** What fetch sends: the caller's stream, chunk for chunk. */
  readonly stream: ReadableStream<Uint8Array>;
  /** The error the caller's stream failed with, once it did. */
  failure(): { error: unknown } | undefined;
}

export function watchBody(source: ReadableStream<Uint8Array>): WatchedBody {
  const reader = source.getReader();
  let failure: { error: unknown } | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (error) {
        failure = { error };
        throw error;
      }
      if (read.done) controller.close();
      else controller.enqueue(read.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { stream, failure: () => failure };
}

/**
 * fetch sends only a stream nothing has read yet; one the caller holds a reader of, or took
 * bytes from, is their mistake, and said so now. No standard call tells a stream read from and
 * released; the Response constructor refuses both kinds, in every runtime, and reads nothing.
 */
export function checkStreamUnread(stream: ReadableStream): void {
  try {
    if (!stream.locked) {
      new Response(stream);
      return;
    }
  } catch {
    // Said below, in the SDK's words.
  }
  throw new TypeError(
    'The body is a ReadableStream that is locked or was already read from: fetch sends only a stream nothing has read yet',
  );
}

/**
 * The body for two sends: a stream is read by the first, so each gets a branch of it (the second
 * is held in memory until sent or dropped, as ky's copy for its own retries is).
 */
export function twoOf(body: unknown): [unknown, unknown] {
  if (typeof ReadableStream === 'undefined' || !(body instanceof ReadableStream)) {
    return [body, body];
  }
  checkStreamUnread(body);
  return body.tee();
}

/** The stream's error is the cause; the message says whose stream failed. */
export function bodyStreamError(error: unknown, line: string): Error {
  const said = error instanceof Error ? error.message : String(error);
  return new Error(
    `${line}: the body's ReadableStream failed (${said}), so the request was not sent whole`,
    { cause: error },
  );
}
