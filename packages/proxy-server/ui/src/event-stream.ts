import { createParser } from 'eventsource-parser';
import { LAST_EVENT_ID_HEADER, type StreamEvent, type TaskSummary } from 'proxy-client/wire';
import { type Api, ApiError } from './api.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  /** A transition: `created`, `started`, `finished` or `requeued`, with the task as it is now. */
  onTransition(type: StreamEvent, task: TaskSummary): void;
  /** Events were missed (the server no longer has them): read the state afresh. */
  onReset(): void;
  onState(state: StreamState): void;
  onUnauthorized(): void;
}

const RETRY_MS = { first: 500, most: 5_000 };

/**
 * `GET /events`, read with fetch rather than EventSource, which cannot send the Authorization
 * header. Parsed with eventsource-parser; on any end or failure it reconnects (backing off to
 * 5 s) with `Last-Event-ID`, so nothing is missed, or the server says `reset`.
 */
export class EventStream {
  readonly #api: Api;
  readonly #handlers: StreamHandlers;
  readonly #stop = new AbortController();
  #lastEventId: string | null = null;
  #connectedBefore = false;
  #retryMs = RETRY_MS.first;

  constructor(api: Api, handlers: StreamHandlers) {
    this.#api = api;
    this.#handlers = handlers;
  }

  start(): void {
    void this.#run();
  }

  close(): void {
    this.#stop.abort();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.#read(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) {
          this.#handlers.onUnauthorized();
          return;
        }
      }
      if (signal.aborted) return;
      this.#handlers.onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, this.#retryMs));
      this.#retryMs = Math.min(RETRY_MS.most, this.#retryMs * 2);
    }
  }

  async #read(signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#lastEventId !== null) headers[LAST_EVENT_ID_HEADER] = this.#lastEventId;
    const response = await this.#api.fetch('events', { signal }, headers);
    this.#handlers.onState('live');
    this.#retryMs = RETRY_MS.first;
    // With no event heard there is no id to resume from, and so no `reset` from the server
    // (a restarted proxy, tasks that changed meanwhile): what the gap missed is read afresh.
    if (this.#connectedBefore && this.#lastEventId === null) this.#handlers.onReset();
    this.#connectedBefore = true;
    const parser = createParser({
      onEvent: (message) => {
        if (message.id !== undefined) this.#lastEventId = message.id;
        if (message.event === 'reset') {
          this.#handlers.onReset();
          return;
        }
        this.#handlers.onTransition(
          (message.event ?? 'message') as StreamEvent,
          JSON.parse(message.data) as TaskSummary,
        );
      },
    });
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) return;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  }
}
