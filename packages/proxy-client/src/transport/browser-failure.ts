/**
 * A browser says only "Failed to fetch" of a request that got no answer it may read: a proxy
 * away, a refused CORS preflight, an answer without this page's origin, a streamed body it will
 * not send. These tell the cases the SDK can be sure of apart, marked like a blocked port (a
 * `cause` with a code), so that the retry policy and the error translation read them alike.
 */

/** A streamed request body the browser would not send: it streams one only over HTTP/2. */
export const STREAM_NEEDS_HTTP2 = 'ERR_STREAM_NEEDS_HTTP2';
/** The proxy answers, not to this origin, and the request needed a preflight: nothing was sent. */
export const PREFLIGHT_REFUSED = 'ERR_CORS_PREFLIGHT_REFUSED';
/** The proxy answers, not to this origin, and the request needed no preflight: it arrived. */
export const ANSWER_HIDDEN = 'ERR_CORS_ANSWER_HIDDEN';

const CODES = new Set([STREAM_NEEDS_HTTP2, PREFLIGHT_REFUSED, ANSWER_HIDDEN]);

/** What Chromium, Firefox and Safari say of any fetch that got no answer, CORS refusals too. */
export const BROWSER_NETWORK_ERRORS = new Set([
  'Failed to fetch',
  'NetworkError when attempting to fetch resource.',
  'Load failed',
]);

/** The longest a probe may take: it only tells a refusal apart, the call has failed already. */
const PROBE_TIMEOUT_MS = 5_000;

/** A browser's bare network error: no cause, one of the words above. */
export function isBareBrowserFailure(error: unknown): error is TypeError {
  return (
    error instanceof TypeError &&
    error.cause === undefined &&
    BROWSER_NETWORK_ERRORS.has(error.message)
  );
}

/** The code of a failure told apart here, if it is one. */
export function browserFailureCode(error: unknown): string | undefined {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && CODES.has(code) ? code : undefined;
}

export interface FailedSend {
  /** What fetch was given. */
  input: RequestInfo | URL;
  /** Whether the body was a `ReadableStream`. */
  streamed: boolean;
  /** The proxy's base URL, whose `/health` the probes read. */
  baseUrl: string;
  fetch: typeof fetch;
}

/**
 * Marks a bare browser failure the SDK can name. A streamed body to an `http:` URL never leaves
 * (browsers speak HTTP/2 only over TLS). Otherwise two probes of `/health`: if a plain CORS read
 * fails too while an opaque `no-cors` read is answered, the proxy is up and refuses this origin.
 * Anything else (the proxy away, a connection cut) stays as it was.
 */
export async function markBrowserFailure(error: unknown, send: FailedSend): Promise<unknown> {
  if (!isBareBrowserFailure(error)) return error;
  const url = new URL(send.input instanceof Request ? send.input.url : String(send.input));
  if (send.streamed && url.protocol === 'http:') return marked(error, STREAM_NEEDS_HTTP2);
  if (!(await refusesThisOrigin(send))) return error;
  const preflighted = send.input instanceof Request ? needsPreflight(send.input) : true;
  return marked(error, preflighted ? PREFLIGHT_REFUSED : ANSWER_HIDDEN);
}

function marked(error: TypeError, code: string): TypeError {
  return new TypeError(error.message, { cause: Object.assign(new Error(code), { code }) });
}

async function refusesThisOrigin({ baseUrl, fetch }: FailedSend): Promise<boolean> {
  const probe = (mode: RequestMode) =>
    fetch(`${baseUrl}/health`, {
      mode,
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    }).then(
      () => true,
      () => false,
    );
  return !(await probe('cors')) && (await probe('no-cors'));
}

/** Headers a browser sends without a preflight (their values aside: see needsPreflight). */
const SAFELISTED_HEADERS = new Set(['accept', 'accept-language', 'content-language']);
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/**
 * Whether the browser asked the proxy first (the Fetch standard's CORS-preflight rules). Unsure
 * cases count as not asked, so that a request is never said unsent when it may have arrived.
 */
function needsPreflight(request: Request): boolean {
  if (!['GET', 'HEAD', 'POST'].includes(request.method)) return true;
  let asked = false;
  request.headers.forEach((value, name) => {
    if (SAFELISTED_HEADERS.has(name)) return;
    const essence = value.split(';')[0]?.trim().toLowerCase() ?? '';
    if (name !== 'content-type' || !SIMPLE_CONTENT_TYPES.has(essence)) asked = true;
  });
  return asked;
}
