/**
 * An error envelope is a few hundred bytes: an error answer whose body takes longer than this
 * is read as no envelope, its status alone, rather than held for undici's five-minute timeout.
 */
const ERROR_BODY_MS = 5_000;

/** An error answer's body as JSON; undefined when it is none or does not come in time. */
export async function errorBodyJson(response: Response): Promise<unknown> {
  try {
    const text = await textWithin(response, ERROR_BODY_MS);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The body as text, or undefined when `ms` ran out first. The reader is cancelled then, which
 * closes the connection: an abort signal does not reliably reach a body whose headers are in
 * (the signal fetch holds may be collected before it fires, and the read waits for undici's own
 * five-minute body timeout).
 */
export async function textWithin(
  response: Response,
  ms: number | undefined,
): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  let expired = false;
  const timer =
    ms === undefined
      ? undefined
      : setTimeout(() => {
          expired = true;
          reader.cancel().catch(() => {});
        }, ms);
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (expired) return undefined;
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
}
