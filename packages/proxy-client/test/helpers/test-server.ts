import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';

/** Base URL of the mocked proxy; MSW answers it, nothing listens. */
export const BASE_URL = 'http://proxy.test';

export interface RecordedCall {
  method: string;
  url: URL;
  /** Path without the query string, e.g. `/task/abc`. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  /** The body as UTF-8 text, and as the bytes that arrived. */
  body: string;
  bytes: Uint8Array;
  /** `Date.now()` when the call arrived (fake time under fake timers). */
  at: number;
  /** Aborted when the client gives up on the request (closes a stream). */
  signal: AbortSignal;
}

/** One scripted answer. `network: true` makes fetch reject as if the connection failed. */
export interface ReplySpec {
  status?: number;
  json?: unknown;
  text?: string;
  /** A body that arrives as the test writes it (an event stream). */
  stream?: ReadableStream<Uint8Array>;
  /** Raw body bytes. */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  network?: true;
}

export type Reply =
  | ReplySpec
  | ((call: RecordedCall, callNumber: number) => ReplySpec | Promise<ReplySpec>);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'all';

export interface ScriptedRoute {
  /** Calls this route received, in order. */
  readonly calls: RecordedCall[];
}

/**
 * A mocked proxy that records every call and scripts the answer per call, like vercel/ai's
 * unified test server: `server.on('get', '/task/:id', reply1, reply2)` answers the first call with
 * reply1 and every later call with reply2. Unscripted requests fail the test.
 */
export function createTestServer() {
  const msw = setupServer();
  const calls: RecordedCall[] = [];

  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    msw.resetHandlers();
    calls.length = 0;
  });
  afterAll(() => msw.close());

  return {
    calls,
    on(method: Method, path: string, ...replies: Reply[]): ScriptedRoute {
      if (replies.length === 0) throw new Error('script at least one reply');
      const route: ScriptedRoute = { calls: [] };
      msw.use(
        http[method](`${BASE_URL}${path}`, async ({ request }) => {
          const call = await record(request);
          calls.push(call);
          route.calls.push(call);
          const callNumber = route.calls.length - 1;
          const reply = replies[Math.min(callNumber, replies.length - 1)]!;
          const spec = typeof reply === 'function' ? await reply(call, callNumber) : reply;
          return toResponse(spec);
        }),
      );
      return route;
    },
  };
}

async function record(request: Request): Promise<RecordedCall> {
  const url = new URL(request.url);
  const bytes = new Uint8Array(await request.arrayBuffer());
  return {
    method: request.method,
    url,
    path: url.pathname,
    query: url.searchParams,
    headers: request.headers,
    body: new TextDecoder().decode(bytes),
    bytes,
    at: Date.now(),
    signal: request.signal,
  };
}

function toResponse(spec: ReplySpec): Response {
  if (spec.network) return HttpResponse.error();
  const init = { status: spec.status ?? 200, headers: spec.headers ?? {} };
  if (spec.json !== undefined) return HttpResponse.json(spec.json as never, init);
  if (spec.stream !== undefined) return new HttpResponse(spec.stream, init);
  if (spec.bytes !== undefined) return new HttpResponse(spec.bytes, init);
  return new HttpResponse(spec.text ?? null, init);
}

/**
 * Fakes the clocks the SDK reads (timers, Date and performance.now) but leaves microtasks and
 * nextTick alone, which MSW and fetch need to answer at all. `vi.setSystemTime` then steps the
 * wall clock alone, as NTP does. Undo with `vi.useRealTimers()`.
 */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
}
