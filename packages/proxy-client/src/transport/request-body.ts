import { checkStreamUnread } from './body-stream.js';

/** How a submitted body travels: raw bytes/text as given, or anything else as JSON. */
export type EncodedBody = { body: BodyInit } | { json: unknown } | Record<string, never>;

/**
 * Bodies that fetch already knows how to send go as-is, so their bytes reach the target unchanged;
 * `undefined` sends no body; every other value is JSON.
 */
export function encodeBody(body: unknown): EncodedBody {
  if (body === undefined) return {};
  if (isRawBody(body)) {
    if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
      checkStreamUnread(body);
    }
    return { body };
  }
  checkNotSilentlyEmpty(body);
  checkJson(body);
  return { json: body };
}

/**
 * A value JSON cannot carry (a BigInt, a cycle, a symbol, a function) is the caller's mistake:
 * a TypeError now, not a failed request later. Checked by stringifying once here; the request
 * stringifies again, which costs far less than the call it makes.
 */
function checkJson(body: unknown): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new TypeError(
      `The body cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new TypeError(`The body cannot be sent as JSON: a ${typeof body} has no JSON form`);
  }
}

/**
 * Values whose JSON says nothing of what they hold: a Node stream would go as its internals, a
 * Map or a Set as `{}`. The caller meant their contents.
 */
function checkNotSilentlyEmpty(body: unknown): void {
  if (typeof body !== 'object' || body === null || 'toJSON' in body) return;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') {
    throw new TypeError(
      'The body is a Node stream, which fetch cannot send: pass Readable.toWeb(stream), or its bytes',
    );
  }
  if (body instanceof Map || body instanceof Set) {
    const kind = body instanceof Map ? 'Map' : 'Set';
    throw new TypeError(
      `The body is a ${kind}, whose JSON is {}: pass ${kind === 'Map' ? 'Object.fromEntries(map)' : '[...set]'}`,
    );
  }
}

function isRawBody(value: unknown): value is BodyInit {
  return (
    typeof value === 'string' ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    isInstance(value, globalThis.Blob) ||
    isInstance(value, globalThis.FormData) ||
    isInstance(value, globalThis.URLSearchParams) ||
    isInstance(value, globalThis.ReadableStream)
  );
}

// Some runtimes lack FormData or ReadableStream; a missing class simply matches nothing.
function isInstance(
  value: unknown,
  type: (abstract new (...args: never[]) => unknown) | undefined,
) {
  return type !== undefined && value instanceof type;
}
