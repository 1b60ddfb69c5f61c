import { isProxyBack, isProxyOutage } from '../errors/outage.js';
import type { ProxyError } from '../errors/proxy-error.js';
import { notify } from '../notify.js';
import type { OpenListener, OutageListener } from '../options.js';
import { sleep } from '../polling/sleep.js';
import { readEventStream, type SseMessage, StreamEnded } from './read-event-stream.js';

/**
 * proxy-server sends a heartbeat comment every 15 s; three missed ones mean the connection is
 * dead even if no FIN or RST ever arrives (a laptop put to sleep, a NAT that forgot it).
 */
export const IDLE_TIMEOUT_MS = 45_000;
/** First pause before reconnecting; it doubles for each connection in a row that brought nothing. */
const FIRST_RECONNECT_DELAY_MS = 250;
const MAX_RECONNECT_DELAY_MS = 10_000;

/**
 * Opens the stream, sending `Last-Event-ID` when there is one. Resolves with a response whose body
 * is the stream; rejects with the SDK's typed errors (after its own retries) when it cannot.
 */
export type OpenStream = (
  lastEventId: string | undefined,
  signal: AbortSignal,
) => Promise<ReadableStream<Uint8Array>>;

export type StreamItem =
  | { kind: 'message'; message: SseMessage }
  /** A new connection after a dropped one; `resumed`: it asked for what was missed. */
  | { kind: 'reconnected'; resumed: boolean };

export interface FollowSettings {
  signal: AbortSignal | undefined;
  /** Resume after this id from the start. */
  lastEventId: string | undefined;
  /** Told when a reconnect finds the proxy away, once per outage, and when one succeeds again. */
  onOutage?: OutageListener | undefined;
  /** Told each time a connection is made, before its first message. */
  onOpen?: OpenListener | undefined;
}

/**
 * An event stream that outlives its connections: when one drops (closed, broken, or silent for
 * `IDLE_TIMEOUT_MS`), it reconnects, after the server's `retry:` or a short pause that grows
 * while connections bring nothing, with the last event id seen as `Last-Event-ID`. Once it has
 * connected, a proxy away for a while (a restart, a deploy: no answer, or a 5xx) is waited out
 * the same way. It ends only when the caller stops iterating (every connection is closed then),
 * when `signal` aborts (rejecting with its reason), or when a connection is refused otherwise
 * (401, 404), or the first one cannot be made after the request's retries.
 */
export async function* followEventStream(
  open: OpenStream,
  settings: FollowSettings,
): AsyncGenerator<StreamItem, never, undefined> {
  let lastEventId = settings.lastEventId;
  let retryMs: number | undefined;
  let quietConnections = 0;
  let connected = false;
  let away = false;
  for (let connection = 0; ; connection++) {
    if (connection > 0) {
      const backoff = FIRST_RECONNECT_DELAY_MS * 2 ** Math.min(quietConnections, 10);
      await sleep(retryMs ?? Math.min(backoff, MAX_RECONNECT_DELAY_MS), settings.signal);
    }
    const controller = new AbortController();
    const signal = settings.signal
      ? AbortSignal.any([settings.signal, controller.signal])
      : controller.signal;
    let heard = false;
    try {
      const body = await open(lastEventId, signal);
      connected = true;
      if (away) {
        away = false;
        notify(settings.onOutage, undefined);
      }
      notify(settings.onOpen, { reconnected: connection > 0 });
      if (connection > 0) yield { kind: 'reconnected', resumed: lastEventId !== undefined };
      const messages = readEventStream(body, {
        signal,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        onRetry: (ms) => {
          retryMs = ms;
        },
        onBytes: () => {
          heard = true;
        },
      });
      for await (const message of messages) {
        if (message.id) lastEventId = message.id;
        yield { kind: 'message', message };
      }
    } catch (error) {
      if (settings.signal?.aborted) throw settings.signal.reason;
      if (away && isProxyBack(error)) notify(settings.onOutage, undefined);
      if (!(error instanceof StreamEnded) && !(connected && isProxyOutage(error))) throw error;
      if (!away && !(error instanceof StreamEnded)) {
        away = true;
        notify(settings.onOutage, error as ProxyError);
      }
    } finally {
      controller.abort();
    }
    quietConnections = heard ? 0 : quietConnections + 1;
  }
}
