import { type ErrorBody, TASK_ID_HEADER } from 'proxy-client/wire';

/** Where the API key lives: this tab's sessionStorage, so it goes when the tab does. */
export class KeyStore {
  static readonly #name = 'proxy-server.api-key';

  get(): string | null {
    return sessionStorage.getItem(KeyStore.#name);
  }

  set(key: string): void {
    sessionStorage.setItem(KeyStore.#name, key);
  }

  clear(): void {
    sessionStorage.removeItem(KeyStore.#name);
  }
}

/** An answer other than 2xx, with the proxy's error code when it sent the envelope. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

/** The proxy's HTTP API as the dashboard uses it: paths relative to where it is served. */
export class Api {
  /** The proxy's root: /ui is served from it, and so is everything else. */
  readonly base = new URL('.', location.href);

  constructor(private readonly keys: KeyStore) {}

  url(path: string): URL {
    return new URL(path, this.base);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const key = this.keys.get();
    return key === null ? extra : { ...extra, authorization: `Bearer ${key}` };
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init, { accept: 'application/json' });
    return (await response.json()) as T;
  }

  /**
   * A task's result as the target sent it, for a download: whatever its status code, which is
   * the target's; an answer without the task-id header is the proxy's own error.
   */
  async result(id: string): Promise<{ blob: Blob; type: string }> {
    // A redirect is the target's answer: followed, it would download another answer, another
    // task's even, under this task's name.
    const response = await reach(this.url(`task/${id}/result`), {
      headers: this.headers(),
      redirect: 'manual',
    });
    if (response.type === 'opaqueredirect') {
      throw new ApiError(
        response.status,
        null,
        "The target answered with a redirect, which has no body to download: its Location is in the result's headers",
      );
    }
    if (!response.headers.has(TASK_ID_HEADER)) await this.#fail(response, 'GET', 'result');
    return { blob: await response.blob(), type: response.headers.get('content-type') ?? '' };
  }

  async fetch(path: string, init: RequestInit = {}, headers: Record<string, string> = {}) {
    const response = await reach(this.url(path), {
      ...init,
      headers: this.headers({ ...headers, ...(init.headers as Record<string, string>) }),
    });
    if (response.ok) return response;
    return this.#fail(response, init.method ?? 'GET', path);
  }

  async #fail(response: Response, method: string, path: string): Promise<never> {
    const body = (await response.json().catch(() => null)) as ErrorBody | null;
    throw new ApiError(
      response.status,
      body?.error ?? null,
      body?.message ?? `${method} ${path} answered ${response.status}`,
    );
  }
}

/** fetch, whose failure to get any answer ("Failed to fetch") says what it means here. */
async function reach(url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot reach the proxy (${reason}): it may be restarting, or down`);
  }
}
