/**
 * The hooks the client runs on every HTTP request. ky runs them; they are typed here rather than
 * imported from ky so that the SDK's declarations stand alone: ky ships ES modules only, and a
 * CommonJS project type-checking `index.d.cts` must not have to load ky's types (TS1479).
 * Every hook here is assignable to ky's own, so a ky hook written elsewhere fits too.
 */

/** What a hook returns: a replacement, or nothing, at once or later (as in ky's own types). */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook may return nothing, sync or async
export type HookResult<T> = T | void | Promise<T | void>;

/** Tells the hooks of one request apart: `0` for the first attempt, then 1, 2… for retries. */
export interface HookState {
  retryCount: number;
}

/**
 * Runs right before each attempt: change `request.headers`, or answer with a `Response` of your
 * own to skip the network. `options` are ky's normalised options, for reading only.
 */
export type BeforeRequestHook = (
  request: Request,
  options: unknown,
  state: HookState,
) => HookResult<Request | Response>;

/** Runs before each retry of a read (see the retry table), with the error that caused it. */
export type BeforeRetryHook = (state: {
  request: Request;
  options: unknown;
  error: Error;
  retryCount: number;
}) => HookResult<Request | Response>;

/** Runs on each answer before the SDK reads it; may return a replacement `Response`. */
export type AfterResponseHook = (
  request: Request,
  options: unknown,
  response: Response,
  state: HookState,
) => HookResult<Response>;

/**
 * Hooks for logging, tracing or signing requests. ky's `beforeError` is left out on purpose: the
 * SDK turns every HTTP error into its own typed error, so nothing a `beforeError` hook changed
 * would reach the caller.
 */
export interface Hooks {
  beforeRequest?: BeforeRequestHook[] | undefined;
  beforeRetry?: BeforeRetryHook[] | undefined;
  afterResponse?: AfterResponseHook[] | undefined;
}
