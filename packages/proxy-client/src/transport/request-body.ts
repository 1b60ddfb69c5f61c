/** How a submitted body travels: raw bytes/text as given, or anything else as JSON. */
export type EncodedBody = { body: BodyInit } | { json: unknown } | Record<string, never>;

/**
 * Bodies that fetch already knows how to send go as-is, so their bytes reach the target unchanged;
 * `undefined` sends no body; every other value is JSON.
 */
export function encodeBody(body: unknown): EncodedBody {
  if (body === undefined) return {};
  if (isRawBody(body)) return { body };
  return { json: body };
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
