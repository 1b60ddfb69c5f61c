import { TASK_ID_HEADER } from '../wire.js';

/**
 * The target's answer to a task, as `GET /task/:id/result` replays it: its status code, its
 * end-to-end headers and its body bytes, whatever they are (no JSON or base64 in between).
 */
export interface RawResult {
  taskId: string;
  /** The target's status code, 500 included: a replayed answer is data, not an error. */
  status: number;
  /** `status` is 2xx. */
  ok: boolean;
  /** The target's end-to-end headers (`content-type`…), as the proxy replays them. */
  headers: Headers;
  /**
   * The body bytes as the target sent them; fetch decodes a compressed one by its
   * `Content-Encoding` (which stays in `headers`).
   */
  body: Uint8Array;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws a `SyntaxError` when it is not JSON. */
  json<T = unknown>(): T;
}

/** A replayed answer: a proxy-server sets `x-proxy-task-id` on those, never on its own errors. */
export function isReplayedResult(response: Response): boolean {
  return response.headers.has(TASK_ID_HEADER);
}

export function toRawResult(taskId: string, response: Response, body: Uint8Array): RawResult {
  return {
    taskId: response.headers.get(TASK_ID_HEADER) ?? taskId,
    status: response.status,
    ok: response.status >= 200 && response.status < 300,
    headers: response.headers,
    body,
    text: () => new TextDecoder().decode(body),
    json: <T>() => JSON.parse(new TextDecoder().decode(body)) as T,
  };
}
