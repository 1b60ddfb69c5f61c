import { isHTTPError, isTimeoutError, type RetryOptions } from 'ky';

/**
 * What the SDK retries, in one place (ky runs the loop, these options decide):
 *
 * | request                     | retried on                          | delay                      |
 * |-----------------------------|-------------------------------------|----------------------------|
 * | reads (GET, cleanup DELETE) | network errors, 5xx but `queue_full`| ky's backoff 0.3 s, 0.6 s… |
 * | submissions                 | 503 `queue_full`, only when asked   | `Retry-After`, capped      |
 *
 * Nothing else is retried: not timeouts, not 4xx, not a submission that may have reached the proxy.
 */

/** Retries for idempotent reads. */
export function readRetry(limit: number, signal: AbortSignal | undefined): RetryOptions {
  return {
    limit,
    shouldRetry: async ({ error }) => {
      if (signal?.aborted || isTimeoutError(error)) return false;
      if (isHTTPError(error)) {
        const { response } = error;
        return response.status >= 500 && (await envelopeCode(response)) !== 'queue_full';
      }
      return isNetworkError(error);
    },
  };
}

/** Retries for a submission: only a full queue, whose task was certainly not created. */
export function submitRetry(
  limit: number,
  method: string,
  maxRetryAfterMs: number,
  signal: AbortSignal | undefined,
): RetryOptions {
  return {
    limit,
    methods: [method.toLowerCase()],
    statusCodes: [503],
    afterStatusCodes: [503],
    maxRetryAfter: maxRetryAfterMs,
    // `undefined` hands the decision back to ky, which waits exactly `Retry-After` (capped by
    // `maxRetryAfter`) without jitter; `true` would make ky ignore the header.
    shouldRetry: async ({ error }) => {
      if (signal?.aborted || !isHTTPError(error) || error.response.status !== 503) return false;
      return (await envelopeCode(error.response)) === 'queue_full' ? undefined : false;
    },
  };
}

/** fetch rejects with a TypeError when no answer came (refused, DNS, reset, offline). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}

async function envelopeCode(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    const code = (body as { error?: unknown } | null)?.error;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
