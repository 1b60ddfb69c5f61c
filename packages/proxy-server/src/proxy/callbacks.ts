import { setMaxListeners } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { Agent, type Dispatcher } from 'undici';
import { type Clock, type Timer, waitAtMost } from '../clock.js';
import { isStoreUnavailableError } from '../engine/store-unavailable.js';
import type { TaskBackend } from '../engine/task-backend.js';
import type { CallbackDelivery, CallbackState } from '../engine/task-record.js';
import { withoutQuery } from '../logging/logger.js';
import {
  answeredOutcome,
  askedWaitMs,
  failureOf,
  isGone,
  retryWaitMs,
} from './receiver-answers.js';
import type { TaskViews } from './task-views.js';
import { withoutFragment } from './without-fragment.js';

export interface CallbacksOptions {
  backend: TaskBackend;
  tasks: TaskViews;
  clock: Clock;
  log: FastifyBaseLogger;
  /** The Standard Webhooks secret (`whsec_...`) every delivery is signed with. */
  secret: string;
  /** Deliveries of one callback at most. */
  maxAttempts: number;
  /**
   * Whether the allow-list still takes a URL: one checked at submission may be due after a
   * restart with a narrower `--callback-allow`.
   */
  allows: (url: URL) => boolean;
  /**
   * The wait before the second delivery; each later one waits four times longer, or as long as
   * a 429 or 503 asks with its Retry-After if that is longer.
   */
  firstRetryMs?: number;
  /** How long one delivery may take, connecting included (tests shorten it). @default 10000 */
  timeoutMs?: number;
  /** Replaces the HTTP client (tests). */
  dispatcher?: Dispatcher;
  /** Hears each callback that ended, delivered or given up (for /stats). */
  onSettled?: (delivered: boolean) => void;
}

/** How long one delivery may take, connecting included: a receiver should answer at once. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** undici's own timeouts, which race the delivery's signal at the same moment. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** The wait before a delivery step the store failed is taken again. */
const STORE_RETRY_MS = 5_000;
/**
 * Deliveries under way to one receiver at most; the rest wait their turn in order. A backlog
 * (deliveries resumed at a start, a burst of tasks finishing) would otherwise open a connection
 * per task at once: 2,747 to one receiver in a test, a burst the proxy exists to spare a service.
 */
export const DELIVERIES_PER_RECEIVER = 16;

/** One receiver's deliveries: how many are under way, and the turns of those waiting. */
interface Receiver {
  running: number;
  waiting: Array<() => void>;
}

/** After a failed delivery, whether another is made and the wait its receiver asked for. */
type Again = { askedMs: number | null } | null;

/**
 * POSTs each finished task to the callback URL its caller named, signed per Standard Webhooks
 * (`webhook-id`: the task id, the same on every delivery so a receiver can drop repeats;
 * `webhook-timestamp`; `webhook-signature`), and tries again with a growing wait until the
 * receiver answers 2xx, answers 410 Gone, or the attempts run out. Each delivery is recorded on
 * the task, and deliveries still due after a restart resume.
 */
export class Callbacks {
  readonly #options: CallbacksOptions;
  readonly #webhook: Webhook;
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  /** Deliveries waiting for their time, by task id. */
  readonly #due = new Map<string, { timer: Timer; at: number; callback: CallbackState }>();
  /** Deliveries under way or waiting their turn, each settled (never rejected). */
  readonly #inFlight = new Set<Promise<void>>();
  /** Of #inFlight, the retries a stop waits for on the memory store, not yet under way. */
  readonly #retriesInStop = new Set<Promise<void>>();
  /** By the receiver's origin. */
  readonly #receivers = new Map<string, Receiver>();
  /** Cuts off the deliveries still under way when a shutdown's grace is over. */
  readonly #cutOff = new AbortController();
  #subscription: { close(): void } | null = null;
  #stopped: Promise<void> | null = null;
  /** Saves of an ended callback waiting to be tried again. */
  readonly #settling = new Set<Timer>();
  /** Whether the store keeps a callback due past this process, for the next start to deliver. */
  readonly #outlivesProcess: boolean;
  /** When the grace of a stop under way ends, on the monotonic clock; null before a stop. */
  #graceEndsAt: number | null = null;
  /** Callbacks a stop left undelivered on a store that keeps nothing past the process. */
  #lostAtStop = 0;
  /** Saves of the callbacks a stop gave up, which the stop's warning waits for. */
  readonly #givenUpInStop = new Set<Promise<void>>();

  constructor(options: CallbacksOptions) {
    // Every delivery under way and every one waiting for its retry listens on it: with a receiver
    // down, thousands are expected, not a leak.
    setMaxListeners(0, this.#cutOff.signal);
    this.#options = options;
    this.#webhook = new Webhook(options.secret);
    this.#timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#outlivesProcess = options.backend.kind !== 'memory';
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: this.#timeoutMs },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
  }

  /** Deliveries under way or waiting their turn: a stop gives them its grace, as it does calls. */
  get underWay(): number {
    return this.#inFlight.size - this.#retriesInStop.size;
  }

  /**
   * Callbacks waiting for a retry due within `withinMs`, which a stop with that grace makes (one
   * due later it gives up at once): on the memory store only, as a store that outlives the
   * process keeps them due for the next start.
   */
  waitingRetries(withinMs: number): number {
    if (this.#outlivesProcess) return 0;
    const until = this.#options.clock.monotonic() + withinMs;
    let due = this.#retriesInStop.size;
    for (const { at } of this.#due.values()) if (at <= until) due++;
    return due;
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
      // Spent under a lower --callback-max-attempts than the run that left it: ended at once, by
      // #deliver, where a store that fails is logged rather than failing the start.
      const inMs = this.#spent(callback) ? 0 : Math.max(0, (callback.nextAt ?? now) - now);
      this.#schedule(id, callback, inMs);
    }
  }

  /**
   * Starts no more deliveries; those under way get `graceMs` to end, like the calls in flight,
   * and are then cut off without a record: a durable store still holds them due, and the next
   * run delivers them again (the same `webhook-id`). On the memory store, which keeps nothing
   * past the process, the retries due within `graceMs` are made too, and every callback still
   * undelivered when it ends is given up, counted and said in one warning. Idempotent.
   */
  stop(graceMs = 0): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#subscription?.close();
    const { clock } = this.#options;
    const now = clock.monotonic();
    this.#graceEndsAt = now + graceMs;
    // Scheduled again the way a stop schedules (#scheduleInStop).
    const due = [...this.#due];
    this.#due.clear();
    for (const [id, entry] of due) {
      clock.clearTimeout(entry.timer);
      this.#schedule(id, entry.callback, Math.max(0, entry.at - now));
    }
    // Their callbacks are still due in the store: the next start delivers them again.
    for (const timer of this.#settling) this.#options.clock.clearTimeout(timer);
    this.#settling.clear();
    if (this.#inFlight.size > 0 && graceMs > 0) {
      await waitAtMost(this.#drained(), graceMs, clock);
    }
    this.#cutOff.abort(new Error('the proxy is shutting down'));
    await this.#drained();
    await Promise.all(this.#givenUpInStop);
    if (this.#lostAtStop > 0) {
      const lost = this.#lostAtStop;
      this.#options.log.warn(
        { callbacks: lost },
        `${lost === 1 ? '1 callback' : `${lost} callbacks`} given up undelivered: the memory store keeps nothing past the process`,
      );
    }
    if (!this.#options.dispatcher) await this.#dispatcher.destroy();
  }

  /** Until no delivery is under way, counting those a delivery ending schedules within a stop. */
  async #drained(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #schedule(id: string, stored: CallbackState, inMs: number): void {
    if (this.#due.has(id)) return;
    // The store's copy may hold a #fragment an earlier build took; every delivery, log line and
    // save of a callback starts here, so none of them carries it.
    const callback = { ...stored, url: withoutFragment(stored.url) };
    if (this.#graceEndsAt !== null) {
      this.#scheduleInStop(id, callback, inMs, this.#graceEndsAt);
      return;
    }
    const timer = this.#options.clock.setTimeout(() => {
      this.#due.delete(id);
      if (!this.#stopped) this.#start(id, callback);
    }, inMs);
    timer.unref?.();
    // On the clock the timer runs on: due now is due by the timer's reckoning.
    this.#due.set(id, { timer, at: this.#options.clock.monotonic() + inMs, callback });
  }

  /**
   * Those due now (a task that just finished) go out within the grace. Later ones wait for the
   * next start on a store that outlives the process; on the memory store, those due within the
   * grace are made in it (a stop waits for them), and the others are lost.
   */
  #scheduleInStop(id: string, callback: CallbackState, inMs: number, graceEndsAt: number): void {
    const { clock } = this.#options;
    if (this.#cutOff.signal.aborted || (inMs > 0 && this.#outlivesProcess)) {
      this.#undelivered(id, callback);
    } else if (inMs === 0) {
      this.#start(id, callback);
    } else if (clock.monotonic() + inMs > graceEndsAt) {
      this.#undelivered(id, callback);
    } else {
      this.#track(this.#later(id, callback, inMs), true);
    }
  }

  /** Starts the delivery `inMs` from now, unless the grace's end cuts it off first. */
  async #later(id: string, callback: CallbackState, inMs: number): Promise<void> {
    const { clock } = this.#options;
    const { signal } = this.#cutOff;
    const due = await new Promise<boolean>((resolve) => {
      const cutOff = () => {
        clock.clearTimeout(timer);
        resolve(false);
      };
      const timer = clock.setTimeout(() => {
        signal.removeEventListener('abort', cutOff);
        resolve(true);
      }, inMs);
      signal.addEventListener('abort', cutOff, { once: true });
    });
    if (due) this.#start(id, callback);
    else this.#undelivered(id, callback);
  }

  /**
   * A callback a stop leaves undelivered: a store that outlives the process holds it due for the
   * next start; the memory store loses it, and it is counted given up (the stop says how many).
   * It is saved given up too, or /stats and /metrics would count it pending as well for the rest
   * of the stop.
   */
  #undelivered(id: string, callback: CallbackState): void {
    if (this.#outlivesProcess) return;
    const save = this.#options.backend
      .setCallback(id, { ...callback, state: 'failed', nextAt: null })
      .then(
        () => undefined,
        (error: unknown) =>
          this.#options.log.error(
            { err: error, taskId: id },
            'saving the end of a callback failed',
          ),
      );
    this.#givenUpInStop.add(save);
    // Given up whether the save is taken or not: the process, and the callback, end with the stop.
    this.#lostAtStop++;
    this.#options.onSettled?.(false);
  }

  #start(id: string, callback: CallbackState): void {
    this.#track(
      this.#inTurn(id, callback).catch((error: unknown) => {
        this.#options.log.error({ err: error, taskId: id }, 'callback delivery failed');
        // The store would not read the task: the delivery is tried again, unless the store
        // will not mend (the next start resumes it).
        if (passes(error)) this.#schedule(id, callback, STORE_RETRY_MS);
      }),
    );
  }

  /** Among the deliveries under way, which a stop waits for; a `retry` waits for its time. */
  #track(work: Promise<void>, retry = false): void {
    this.#inFlight.add(work);
    if (retry) this.#retriesInStop.add(work);
    // From both at once, so #inFlight less the retries always counts the deliveries under way.
    void work.then(() => {
      this.#inFlight.delete(work);
      this.#retriesInStop.delete(work);
    });
  }

  /** Delivers once fewer than DELIVERIES_PER_RECEIVER are under way to the URL's origin. */
  async #inTurn(id: string, callback: CallbackState): Promise<void> {
    const { origin } = new URL(callback.url);
    let receiver = this.#receivers.get(origin);
    if (!receiver) {
      receiver = { running: 0, waiting: [] };
      this.#receivers.set(origin, receiver);
    }
    if (receiver.running < DELIVERIES_PER_RECEIVER) receiver.running++;
    // A turn is handed over with its slot: `running` stays as it is.
    else await new Promise<void>((resolve) => receiver.waiting.push(resolve));
    try {
      // Cut off while waiting: as one cut off under way.
      if (!this.#cutOff.signal.aborted) await this.#deliver(id, callback);
      else this.#undelivered(id, callback);
    } finally {
      const next = receiver.waiting.shift();
      if (next) next();
      else if (--receiver.running === 0) this.#receivers.delete(origin);
    }
  }

  #spent(callback: CallbackState): boolean {
    return callback.deliveries.length >= this.#options.maxAttempts;
  }

  async #deliver(id: string, callback: CallbackState): Promise<void> {
    if (this.#spent(callback)) {
      await this.#settle(id, { ...callback, state: 'failed', nextAt: null });
      return;
    }
    const { tasks, clock } = this.#options;
    const task = await tasks.get(id);
    if (!task) {
      this.#lost(id, callback);
      return;
    }
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
    if (!this.#options.allows(new URL(callback.url))) {
      delivery.error = 'its origin is not one --callback-allow lists any more';
      await this.#record(id, callback, delivery, null);
      return;
    }
    // Per attempt, not AbortSignal.any over the process-long #cutOff: on Node 20 that keeps an
    // entry per composed signal for good, some 50 bytes a delivery.
    const attempt = new AbortController();
    const cutOff = () => attempt.abort(this.#cutOff.signal.reason);
    this.#cutOff.signal.addEventListener('abort', cutOff, { once: true });
    // Cut off while the task was read: an aborted signal calls no listener added later.
    if (this.#cutOff.signal.aborted) cutOff();
    // No answer at all (refused, timed out) is tried again after the backoff.
    let again: Again = { askedMs: null };
    const timer = clock.setTimeout(
      () => attempt.abort(new DOMException('the delivery timed out', 'TimeoutError')),
      this.#timeoutMs,
    );
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
        signal: attempt.signal,
      });
      await response.body.dump();
      delivery.statusCode = response.statusCode;
      delivery.ok = response.statusCode >= 200 && response.statusCode < 300;
      again = isGone(response.statusCode)
        ? null
        : { askedMs: askedWaitMs(response.statusCode, response.headers, clock.now()) };
    } catch (error) {
      delivery.error = this.#describe(error);
    } finally {
      this.#cutOff.signal.removeEventListener('abort', cutOff);
      clock.clearTimeout(timer);
    }
    // Cut off by a shutdown: not the receiver's failure, and the next run delivers it again
    // (the memory store loses it, unless it went through).
    if (this.#cutOff.signal.aborted && (this.#outlivesProcess || !delivery.ok)) {
      this.#undelivered(id, callback);
      return;
    }
    await this.#record(id, callback, delivery, again);
  }

  /** Saves the delivery on the task, and schedules the next one if `again` and any are left. */
  async #record(
    id: string,
    callback: CallbackState,
    delivery: CallbackDelivery,
    again: Again,
  ): Promise<void> {
    const { backend, clock, maxAttempts } = this.#options;
    const deliveries = [...callback.deliveries, delivery];
    const more = again !== null && !delivery.ok && deliveries.length < maxAttempts;
    const waitMs = retryWaitMs(
      deliveries.length,
      this.#options.firstRetryMs ?? 1_000,
      again?.askedMs ?? null,
    );
    // From the delivery's end: one that timed out took 10 s of the wait otherwise.
    const nextAt = more ? clock.now() + waitMs : null;
    const next: CallbackState = {
      url: callback.url,
      state: delivery.ok ? 'delivered' : more ? 'pending' : 'failed',
      deliveries,
      nextAt,
    };
    if (nextAt === null) {
      await this.#settle(id, next);
      return;
    }
    // Said now, not only at the give-up an hour later: an operator sees a receiver down at once.
    this.#options.log.info(
      {
        taskId: id,
        url: withoutQuery(callback.url),
        attempt: delivery.attempt,
        outcome: outcomeOf(delivery),
        nextAttemptAt: new Date(nextAt).toISOString(),
      },
      'callback delivery will be retried',
    );
    try {
      await backend.setCallback(id, next);
    } finally {
      // Saved or not: the next delivery's record holds this one too.
      this.#schedule(id, next, waitMs);
    }
  }

  /**
   * Saves a callback that has ended, delivered or given up, and says so. A save the store
   * refuses is tried again, the save alone: the receiver has had its delivery.
   */
  async #settle(id: string, settled: CallbackState): Promise<void> {
    try {
      await this.#options.backend.setCallback(id, settled);
    } catch (error) {
      this.#options.log.error({ err: error, taskId: id }, 'saving the end of a callback failed');
      if (!passes(error) || this.#stopped) return;
      const timer = this.#options.clock.setTimeout(() => {
        this.#settling.delete(timer);
        if (this.#stopped) return;
        this.#track(this.#settle(id, settled));
      }, STORE_RETRY_MS);
      timer.unref?.();
      this.#settling.add(timer);
      return;
    }
    const delivered = settled.state === 'delivered';
    this.#options.onSettled?.(delivered);
    if (!delivered) {
      const last = settled.deliveries.at(-1);
      // Without its query string, where a receiver's token would travel.
      this.#options.log.warn(
        {
          taskId: id,
          url: withoutQuery(settled.url),
          attempts: settled.deliveries.length,
          lastOutcome: outcomeOf(last),
        },
        isGone(last?.statusCode ?? null)
          ? 'callback given up: the receiver answered 410 Gone'
          : 'callback given up',
      );
    }
  }

  /**
   * The task went (--retention, --max-tasks, a cleanup) while its callback was still due: the
   * callback went with it, and is given up like one whose attempts ran out, not dropped unsaid.
   */
  #lost(id: string, callback: CallbackState): void {
    this.#options.onSettled?.(false);
    this.#options.log.warn(
      { taskId: id, url: withoutQuery(callback.url), attempts: callback.deliveries.length },
      'callback given up: its task was removed before a delivery went through',
    );
  }

  #describe(error: unknown): string {
    if (timedOut(error)) return `the receiver did not answer within ${this.#timeoutMs / 1000} s`;
    return failureOf(error);
  }
}

/** How a delivery went, for the log: the receiver's status, or why none came. */
function outcomeOf(delivery: CallbackDelivery | undefined): string | null {
  if (!delivery) return null;
  return delivery.statusCode === null ? delivery.error : answeredOutcome(delivery.statusCode);
}

/** A store failure that should pass by itself (a full disk, Redis away), not a damaged file. */
function passes(error: unknown): boolean {
  return isStoreUnavailableError(error) && !error.lasting;
}

/** One message for a delivery out of time, whichever of the timeouts fired first. */
function timedOut(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code));
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
