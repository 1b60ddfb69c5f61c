import type { FastifyBaseLogger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { Agent, type Dispatcher } from 'undici';
import type { Clock, Timer } from '../clock.js';
import type { TaskBackend } from '../engine/task-backend.js';
import type { CallbackDelivery, CallbackState } from '../engine/task-record.js';
import type { TaskViews } from './task-views.js';

export interface CallbacksOptions {
  backend: TaskBackend;
  tasks: TaskViews;
  clock: Clock;
  log: FastifyBaseLogger;
  /** The Standard Webhooks secret (`whsec_...`) every delivery is signed with. */
  secret: string;
  /** Deliveries of one callback at most. */
  maxAttempts: number;
  /** The wait before the second delivery; each later one waits four times longer. */
  firstRetryMs?: number;
  /** Replaces the HTTP client (tests). */
  dispatcher?: Dispatcher;
  /** Hears each callback that ended, delivered or given up (for /stats). */
  onSettled?: (delivered: boolean) => void;
}

/** How long one delivery may take, connecting included: a receiver should answer at once. */
const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_RETRY_WAIT_MS = 10 * 60_000;

/**
 * POSTs each finished task to the callback URL its caller named, signed per Standard Webhooks
 * (`webhook-id`: the task id, the same on every delivery so a receiver can drop repeats;
 * `webhook-timestamp`; `webhook-signature`), and tries again with a growing wait until the
 * receiver answers 2xx or the attempts run out. Each delivery is recorded on the task, and
 * deliveries still due after a restart resume.
 */
export class Callbacks {
  readonly #options: CallbacksOptions;
  readonly #webhook: Webhook;
  readonly #dispatcher: Dispatcher;
  readonly #timers = new Map<string, Timer>();
  #subscription: { close(): void } | null = null;
  #stopped = false;

  constructor(options: CallbacksOptions) {
    this.#options = options;
    this.#webhook = new Webhook(options.secret);
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: DELIVERY_TIMEOUT_MS },
        headersTimeout: DELIVERY_TIMEOUT_MS,
        bodyTimeout: DELIVERY_TIMEOUT_MS,
      });
  }

  /** Delivers from now on, and resumes the deliveries a previous run left due. */
  async start(): Promise<void> {
    this.#subscription = this.#options.backend.subscribe((event) => {
      if (event.type !== 'finished' || !event.local) return;
      const { callback } = event.task;
      if (callback?.state === 'pending') this.#schedule(event.task.id, callback, 0);
    });
    const now = this.#options.clock.now();
    for (const { id, callback } of await this.#options.backend.pendingCallbacks()) {
      this.#schedule(id, callback, Math.max(0, (callback.nextAt ?? now) - now));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#subscription?.close();
    for (const timer of this.#timers.values()) this.#options.clock.clearTimeout(timer);
    this.#timers.clear();
    if (!this.#options.dispatcher) await this.#dispatcher.close();
  }

  #schedule(id: string, callback: CallbackState, inMs: number): void {
    if (this.#stopped || this.#timers.has(id)) return;
    const timer = this.#options.clock.setTimeout(() => {
      this.#timers.delete(id);
      this.#deliver(id, callback).catch((error: unknown) =>
        this.#options.log.error({ err: error, taskId: id }, 'callback delivery failed'),
      );
    }, inMs);
    timer.unref?.();
    this.#timers.set(id, timer);
  }

  async #deliver(id: string, callback: CallbackState): Promise<void> {
    const { tasks, backend, clock, log, maxAttempts } = this.#options;
    const task = await tasks.get(id);
    if (!task) return;
    const at = clock.now();
    const payload = JSON.stringify({
      type: `task.${task.status}`,
      timestamp: new Date(at).toISOString(),
      data: task,
    });
    const delivery: CallbackDelivery = {
      attempt: callback.deliveries.length + 1,
      at,
      ok: false,
      statusCode: null,
      error: null,
    };
    try {
      const response = await this.#dispatcher.request({
        origin: new URL(callback.url).origin,
        path: pathOf(callback.url),
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'proxy-server callbacks',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at / 1000)),
          'webhook-signature': this.#webhook.sign(id, new Date(at), payload),
        },
        // Redirects are not followed (undici needs an interceptor for that): one could point
        // anywhere, and the allow-list covers the URL the caller gave only.
        body: payload,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.body.dump();
      delivery.statusCode = response.statusCode;
      delivery.ok = response.statusCode >= 200 && response.statusCode < 300;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    const deliveries = [...callback.deliveries, delivery];
    const more = !delivery.ok && deliveries.length < maxAttempts;
    const waitMs = Math.min(
      MAX_RETRY_WAIT_MS,
      (this.#options.firstRetryMs ?? 1_000) * 4 ** (deliveries.length - 1),
    );
    const next: CallbackState = {
      url: callback.url,
      state: delivery.ok ? 'delivered' : more ? 'pending' : 'failed',
      deliveries,
      nextAt: more ? at + waitMs : null,
    };
    await backend.setCallback(id, next);
    if (more) {
      this.#schedule(id, next, waitMs);
      return;
    }
    this.#options.onSettled?.(delivery.ok);
    if (!delivery.ok) {
      log.warn({ taskId: id, url: callback.url, attempts: deliveries.length }, 'callback given up');
    }
  }
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
