import type { Redis } from 'ioredis';
import type { Clock } from '../../clock.js';
import type { Subscription, TaskEvent, TaskEventListener } from '../task-backend.js';
import { eventFrom } from './task-codec.js';

export interface EventFeedOptions {
  /** A connection of the feed's own: it blocks on XREAD. */
  client: Redis;
  /** The stream every instance appends its transitions to. */
  key: string;
  /** This instance's id: events it made are `local`. */
  origin: string;
  /** Events kept for subscribers resuming; the stream is trimmed to about as many. */
  capacity: number;
  clock: Clock;
  /** Hears every event once, before the subscribers (waiters, calls to abort). */
  onEvent: (event: TaskEvent) => void;
  /** The feed reads again after it could not: events of that time may be missing. */
  onResumed: () => void;
  onError: (error: unknown, doing: string) => void;
}

interface Subscriber {
  listener: TaskEventListener;
  /** Only events after this id (the one a resuming subscriber saw last). */
  after: StreamId | null;
  /** Passes ids on to clients who may resume after them: hears the events in id order. */
  ordered: boolean;
  onMissed: (() => void) | undefined;
}

/** A stream entry id, `<ms>-<seq>`, as numbers to compare. */
type StreamId = readonly [number, number];

/** An event kept, with its id as numbers. */
interface Kept {
  id: StreamId;
  event: TaskEvent;
}

const READ_BATCH = 1_000;
const BLOCK_MS = 5_000;
const RETRY_MS = 1_000;
const MAX_CLOCK_SKEW_MS = 60_000;

/**
 * Every instance's transitions, from the Redis stream `<prefix>:events`, told to this
 * instance's subscribers. Event ids are the stream's entry ids, the same on every instance, so a
 * subscriber that saw event X on one instance resumes after X on any other. The last `capacity`
 * events are kept here in id order, so that a resume is answered at once.
 *
 * An instance's own transitions reach `onEvent` (waiters, calls to abort) and its subscribers
 * as soon as the script that made them answers: a caller that saw a transition done finds it
 * counted and logged. Subscribers that pass ids on to clients (event streams) are the exception:
 * they hear the events in id order, as the stream delivers them, an instance's own once the
 * stream has brought them back, after any event of another instance with a lower id. Told at
 * once, a client would hear two instances' events out of order, and one that then resumed
 * after the higher id would miss the lower.
 */
export class EventFeed {
  readonly #options: EventFeedOptions;
  /** Sorted by id; the events kept are those from `#head` on (dropping one moves the head). */
  readonly #window: Kept[] = [];
  #head = 0;
  readonly #known = new Set<string>();
  /** This instance's events the stream has not brought back yet: not told to ordered subscribers. */
  readonly #held = new Map<string, Kept>();
  readonly #subscribers = new Set<Subscriber>();
  #cursor = '0-0';
  /**
   * The last event read before the feed lost Redis: once back, the stream still holds it unless
   * Redis lost its data or trimmed past it meanwhile, and then events were missed.
   */
  #lastBeforeLoss: string | null = null;
  #closed = false;
  #disconnected = false;

  constructor(options: EventFeedOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Loads the events the stream holds (the last `capacity`), then follows it. */
  async open(): Promise<void> {
    const { client, key, origin, capacity } = this.#options;
    const entries = await client.xrevrange(key, '+', '-', 'COUNT', capacity);
    for (const [id, fields] of entries.reverse()) {
      this.#cursor = id;
      this.#accept(id, () => eventFrom(id, fields, origin));
    }
    client.on('close', () => {
      this.#disconnected = true;
      this.#lastBeforeLoss ??= this.#cursor;
    });
    client.on('ready', () => {
      if (!this.#disconnected) return;
      this.#disconnected = false;
      this.#options.onResumed();
    });
    void this.#follow();
  }

  /**
   * An event this instance made: `onEvent` and the unordered subscribers hear it now, the
   * ordered ones once the stream brings it back.
   */
  publish(event: TaskEvent): void {
    const kept = this.#accept(event.id, () => event);
    if (!kept) return;
    this.#tellSubscribers(kept, false);
    this.#held.set(event.id, kept);
    // The stream has not brought back a window's worth: the feed is stuck, and its ordered
    // subscribers would hear nothing more of this instance. Told now, in their own order.
    if (this.#held.size > this.#options.capacity) this.#release(() => true);
  }

  /** `ordered`: the listener passes ids on to clients, who may resume after them. */
  subscribe(
    listener: TaskEventListener,
    after?: string,
    ordered = after !== undefined,
    onMissed?: () => void,
  ): Subscription {
    const subscriber: Subscriber = { listener, after: null, ordered, onMissed };
    let complete = true;
    if (after !== undefined) {
      const from = parseId(after);
      const oldest = this.#window[this.#head];
      if (from === null || oldest === undefined || compare(from, oldest.id) < 0 || isMadeUp(from)) {
        complete = false;
      } else {
        subscriber.after = from;
        for (let at = this.#head; at < this.#window.length; at++) {
          const { id, event } = this.#window[at] as Kept;
          if (compare(id, from) > 0 && !this.#held.has(event.id)) this.#tell(listener, event);
        }
      }
    }
    this.#subscribers.add(subscriber);
    return {
      complete,
      close: () => {
        this.#subscribers.delete(subscriber);
      },
    };
  }

  close(): void {
    this.#closed = true;
  }

  async #follow(): Promise<void> {
    const { client, key, origin, clock } = this.#options;
    let failedWith: string | null = null;
    while (!this.#closed) {
      if (this.#lastBeforeLoss !== null && failedWith === null)
        await this.#checkForLoss(this.#lastBeforeLoss);
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        // As bytes: an entry this instance made (most of them, with one instance) is skipped
        // by its id, without decoding its fields.
        reply = (await client.xreadBuffer(
          'COUNT',
          READ_BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          key,
          this.#cursor,
        )) as [Buffer, [Buffer, Buffer[]][]][] | null;
      } catch (error) {
        if (this.#closed) return;
        // Said again when the reason changes: a connection cut (CLIENT KILL) is first, and what
        // keeps the reads failing after it (an ACL that now denies XREAD) is what to fix.
        const reason = error instanceof Error ? error.message : String(error);
        if (reason !== failedWith) this.#options.onError(error, 'reading the event stream');
        failedWith = reason;
        this.#lastBeforeLoss ??= this.#cursor;
        await new Promise<void>((resolve) => clock.setTimeout(resolve, RETRY_MS).unref?.());
        continue;
      }
      if (failedWith !== null) {
        failedWith = null;
        this.#options.onResumed();
      }
      for (const [, entries] of reply ?? []) {
        for (const [idBytes, fields] of entries) {
          const id = idBytes.toString('latin1');
          this.#cursor = id;
          const held = this.#held.get(id);
          if (held) {
            this.#held.delete(id);
            this.#tellSubscribers(held, true);
            continue;
          }
          const kept = this.#accept(id, () =>
            eventFrom(
              id,
              fields.map((field) => field.toString('utf8')),
              origin,
            ),
          );
          if (kept) this.#tellSubscribers(kept);
        }
      }
      this.#releaseTrimmed();
      // Under load, events come a few at a time: letting one turn of the event loop pass
      // gathers more of them into the next read, for one round trip instead of several.
      if (reply) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Tells the subscribers that asked when the event `last` is gone from the stream. */
  async #checkForLoss(last: string): Promise<void> {
    let kept: boolean;
    try {
      kept =
        last === '0-0' ||
        (await this.#options.client.xrange(this.#options.key, last, last)).length > 0;
    } catch {
      // Still away: the read below fails too, and the check comes again once it answers.
      return;
    }
    this.#lastBeforeLoss = null;
    if (kept) return;
    // A client resuming later after an event kept here would be answered from the window as
    // though nothing were missed, and keep the tasks Redis lost.
    for (let at = this.#head; at < this.#window.length; at++) {
      this.#known.delete((this.#window[at] as Kept).event.id);
    }
    this.#window.length = 0;
    this.#head = 0;
    for (const { onMissed } of this.#subscribers) {
      try {
        onMissed?.();
      } catch (error) {
        this.#options.onError(error, 'telling a listener that events were missed');
      }
    }
  }

  /** Keeps an event not seen yet and lets `onEvent` hear it; null when not new. */
  #accept(key: string, parse: () => TaskEvent): Kept | null {
    if (this.#known.has(key)) return null;
    const id = parseId(key);
    let event: TaskEvent;
    try {
      if (id === null) throw new Error(`'${key}' is not a stream id`);
      event = parse();
    } catch (error) {
      this.#options.onError(error, `reading event ${key}`);
      return null;
    }
    const kept = { id, event };
    this.#insert(kept);
    this.#options.onEvent(event);
    return kept;
  }

  /**
   * Own events the stream was trimmed past while the feed could not read it (Redis away longer
   * than `capacity` events took): told now, or never.
   */
  #releaseTrimmed(): void {
    if (this.#held.size === 0) return;
    const cursor = parseId(this.#cursor);
    if (cursor !== null) this.#release(({ id }) => compare(id, cursor) <= 0);
  }

  /** Tells the ordered subscribers the held events that `which` picks, in id order. */
  #release(which: (kept: Kept) => boolean): void {
    const picked = [...this.#held.values()].filter(which);
    for (const kept of picked.sort((x, y) => compare(x.id, y.id))) {
      this.#held.delete(kept.event.id);
      this.#tellSubscribers(kept, true);
    }
  }

  /** Tells the subscribers past whose `after` it is; with `ordered`, only those (or the others). */
  #tellSubscribers({ id, event }: Kept, ordered?: boolean): void {
    for (const subscriber of this.#subscribers) {
      if (ordered !== undefined && subscriber.ordered !== ordered) continue;
      if (subscriber.after === null || compare(id, subscriber.after) > 0) {
        this.#tell(subscriber.listener, event);
      }
    }
  }

  #insert(kept: Kept): void {
    const window = this.#window;
    let at = window.length;
    // Nearly always the newest; one from another instance may come a little late.
    while (at > this.#head && compare((window[at - 1] as Kept).id, kept.id) > 0) at--;
    if (at === window.length) window.push(kept);
    else window.splice(at, 0, kept);
    this.#known.add(kept.event.id);
    while (window.length - this.#head > this.#options.capacity) {
      const dropped = window[this.#head++];
      if (dropped) this.#known.delete(dropped.event.id);
    }
    if (this.#head >= this.#options.capacity) {
      window.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #tell(listener: TaskEventListener, event: TaskEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.#options.onError(error, `telling a listener about a ${event.type} event`);
    }
  }
}

function parseId(text: string): StreamId | null {
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) return null;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? [ms, seq] : null;
}

/**
 * Stream ids begin with Redis's clock in ms. One past the newest event here may be another
 * instance's this one has not read yet (a resume through a load balancer), but not one more
 * than a minute ahead of this machine's clock: listening after that would hold back every event
 * until then. Clocks further apart than that cost a `reset` (the client reads the tasks afresh),
 * not lost events. The wall clock on purpose, not the injected one: it is compared with Redis's.
 */
function isMadeUp(id: StreamId): boolean {
  return id[0] > Date.now() + MAX_CLOCK_SKEW_MS;
}

function compare(a: StreamId, b: StreamId): number {
  return a[0] - b[0] || a[1] - b[1];
}
