/** How a submitted body travels: raw bytes/text as given, or anything else as JSON. */
export type EncodedBody = { body: BodyInit } | { json: unknown } | Record<string, never>;

/**
 * Bodies that fetch already knows how to send go as-is, so their bytes reach the target unchanged;
 * `undefined` sends no body; every other value is JSON.
 */
export function encodeBody(body: unknown): EncodedBody {
  if (body === undefined) return {};
  if (isRawBody(body)) return { body };
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
