import type { TenantLoad } from '../task-backend.js';
import { PRIORITIES, type Priority } from '../task-record.js';
import { MinHeap } from './min-heap.js';
import { PendingLine } from './pending-line.js';

/** A pending task as the queue knows it: its order (FIFO key), level and tenant. */
export interface QueueEntry {
  id: string;
  /** The task's place in FIFO order: lower goes first within its level and tenant. */
  order: number;
  priority: Priority;
  /** '' when fair sharing is off: every task in one line per level. */
  tenant: string;
}

/** A tenant's seat at a level's round-robin: its line, and when it sat down. */
interface Seat {
  tenant: string;
  line: PendingLine;
  /** When the tenant joined the ring, counted per level: the ring is in this order. */
  joined: number;
}

/**
 * How deep the lists of seats by depth go (see `Level.deeper`): a task further back in its line
 * than this is counted over every tenant with at least this many tasks, few unless many tenants
 * each hold that many. A take from a seat in a list splices it out of the one it leaves.
 */
const LISTED_DEPTHS = 8;

interface Level {
  seats: Map<string, Seat>;
  /** The tenants with queued tasks, in round-robin order (ascending `joined`). */
  ring: Seat[];
  /**
   * `deeper[k - 2]`: the seats with k queued tasks or more, k from 2 to LISTED_DEPTHS, in ring
   * order like the ring itself (the seats with one or more). A position is counted from their
   * lengths and a binary search in one of them, not by visiting every tenant.
   */
  deeper: Seat[][];
  /**
   * Index in the ring of the tenant served next. Past the last tenant (the ring's length), a
   * tenant that joins now is served next, else the ring's first.
   */
  cursor: number;
  /** The next `joined`: every seat's is below it. */
  joins: number;
  size: number;
}

/** Deadlines of tasks no longer queued that the heap may hold beyond twice the queue's size. */
const DEADLINES_SLACK = 1_024;

interface Timed {
  at: number;
  entry: QueueEntry;
}

/**
 * The queue of the local backend: one level per priority, served high first; within a level one
 * line per tenant, served round-robin so one tenant's burst cannot starve another (with a single
 * tenant this is one plain FIFO); tasks waiting for a retry aside until due; deadlines of queued
 * tasks in a heap so they expire on time; and the calls in flight per tenant, for a per-tenant
 * cap. A position is where `take` would hand the task out if nothing else came: later tasks of a
 * tenant whose turn comes sooner, and a tenant's cap, move it (fair sharing only).
 */
export class TaskScheduler {
  readonly #levels = Object.fromEntries(
    PRIORITIES.map((priority): [Priority, Level] => [
      priority,
      {
        seats: new Map(),
        ring: [],
        deeper: Array.from({ length: LISTED_DEPTHS - 1 }, () => []),
        cursor: 0,
        joins: 0,
        size: 0,
      },
    ]),
  ) as Record<Priority, Level>;
  /** Tasks waiting for their next attempt, by id; the heap orders them by due time. */
  readonly #delayed = new Map<string, Timed>();
  readonly #due = new MinHeap<Timed>((timed) => timed.at);
  readonly #deadlines = new MinHeap<Timed>((timed) => timed.at);
  readonly #queuedByTenant = new Map<string, number>();
  readonly #inFlightByTenant = new Map<string, number>();
  readonly #tenantMaxInFlight: number | null;
  #ready = 0;

  constructor(tenantMaxInFlight: number | null = null) {
    this.#tenantMaxInFlight = tenantMaxInFlight;
  }

  /** Tasks queued: ready to start, or waiting for a retry. */
  get size(): number {
    return this.#ready + this.#delayed.size;
  }

  /** Tasks queued and ready to start now. */
  get readySize(): number {
    return this.#ready;
  }

  /** Queues a task to start when its turn comes; `deadlineAt` expires it if it has not by then. */
  add(entry: QueueEntry, deadlineAt: number | null = null): void {
    const level = this.#levels[entry.priority];
    let seat = level.seats.get(entry.tenant);
    if (!seat) {
      seat = { tenant: entry.tenant, line: new PendingLine(), joined: level.joins++ };
      level.seats.set(entry.tenant, seat);
      level.ring.push(seat);
    }
    seat.line.push(entry.id, entry.order);
    const asDeep = this.#atLeast(level, seat.line.size);
    if (seat.line.size > 1 && asDeep) asDeep.splice(indexByJoined(asDeep, seat), 0, seat);
    level.size++;
    this.#ready++;
    this.#count(this.#queuedByTenant, entry.tenant, 1);
    if (deadlineAt !== null) this.#addDeadline({ at: deadlineAt, entry });
  }

  /**
   * A deadline stays in the heap when its task leaves the line (started, cancelled), and counts
   * again if the task is put back (a start the store refused); expiry skips the task then. So
   * the heap is pruned of tasks no longer queued once it holds far more than the queue: a task
   * that started long before its deadline (a year away, from a caller's header) is not kept. A
   * task put back after a prune comes with its deadline again.
   */
  #addDeadline(timed: Timed): void {
    this.#deadlines.push(timed);
    if (this.#deadlines.size > 2 * this.size + DEADLINES_SLACK) {
      this.#deadlines.retain(({ entry }) => this.#isQueued(entry));
    }
  }

  #isQueued(entry: QueueEntry): boolean {
    if (this.#delayed.has(entry.id)) return true;
    const seat = this.#levels[entry.priority].seats.get(entry.tenant);
    return seat !== undefined && seat.line.position(entry.order) !== null;
  }

  /** Sets a task aside until `runAt`, then queues it. */
  addDelayed(entry: QueueEntry, runAt: number): void {
    const timed = { at: runAt, entry };
    this.#delayed.set(entry.id, timed);
    this.#due.push(timed);
    this.#count(this.#queuedByTenant, entry.tenant, 1);
  }

  /** Takes a task out of the queue wherever it is; false when it is not queued. */
  remove(entry: QueueEntry): boolean {
    const delayed = this.#delayed.get(entry.id);
    if (delayed) {
      this.#delayed.delete(entry.id);
      this.#count(this.#queuedByTenant, entry.tenant, -1);
      return true;
    }
    const level = this.#levels[entry.priority];
    const seat = level.seats.get(entry.tenant);
    if (!seat?.line.remove(entry.order)) return false;
    this.#leftLine(level, seat);
    return true;
  }

  /** Moves the tasks whose retry is due into the queue. */
  promote(now: number): void {
    for (let next = this.#due.peek(); next && next.at <= now; next = this.#due.peek()) {
      this.#due.pop();
      if (this.#delayed.get(next.entry.id) !== next) continue;
      this.#delayed.delete(next.entry.id);
      this.#count(this.#queuedByTenant, next.entry.tenant, -1);
      this.add(next.entry);
    }
  }

  /** Queued tasks whose deadline has passed, taken out of the queue. */
  expire(now: number): QueueEntry[] {
    const expired: QueueEntry[] = [];
    for (let next = this.#deadlines.peek(); next && next.at <= now; next = this.#deadlines.peek()) {
      this.#deadlines.pop();
      const { entry } = next;
      const level = this.#levels[entry.priority];
      const seat = level.seats.get(entry.tenant);
      // Only a task still waiting for its first start expires; one that left the line did not.
      if (seat?.line.remove(entry.order)) {
        this.#leftLine(level, seat);
        expired.push(entry);
      }
    }
    return expired;
  }

  /** The next time something is due here: a retry, or a deadline. Null when nothing is. */
  nextWakeAt(): number | null {
    const due = this.#due.peek()?.at ?? null;
    const deadline = this.#deadlines.peek()?.at ?? null;
    if (due === null) return deadline;
    return deadline === null ? due : Math.min(due, deadline);
  }

  /**
   * The task to start now: the highest level with a task whose tenant is under its cap, the
   * tenants of a level in turn. Undefined when none can start.
   */
  take(): QueueEntry | undefined {
    const cap = this.#tenantMaxInFlight;
    for (const priority of PRIORITIES) {
      const level = this.#levels[priority];
      const tenants = level.ring.length;
      for (let i = 0; i < tenants; i++) {
        const at = (level.cursor + i) % tenants;
        const seat = level.ring[at] as Seat;
        if (cap !== null && (this.#inFlightByTenant.get(seat.tenant) ?? 0) >= cap) continue;
        const next = seat.line.shift() as { id: string; seq: number };
        level.cursor = at + 1;
        this.#leftLine(level, seat);
        return { id: next.id, order: next.seq, priority, tenant: seat.tenant };
      }
    }
    return undefined;
  }

  /** A call of this tenant's started (after `take`) or ended: the per-tenant cap counts them. */
  started(tenant: string): void {
    this.#count(this.#inFlightByTenant, tenant, 1);
  }

  ended(tenant: string): void {
    this.#count(this.#inFlightByTenant, tenant, -1);
  }

  /**
   * 1-based place in the queue, or null when the task is not queued (or waits for a retry).
   * Round-robin: before the turn that serves the rank-th task of a tenant, each other tenant
   * starts one task per turn, at most all it has, and one more in that turn when it comes first.
   * So the tasks ahead are, for each depth below the rank, the other tenants that deep, and of
   * those as deep as the rank, the ones served before it in its turn: counted from the lists by
   * depth, not by visiting every tenant, as `--fair-key ip` may queue tens of thousands.
   */
  position(entry: QueueEntry): number | null {
    let ahead = 0;
    for (const priority of PRIORITIES) {
      if (priority === entry.priority) break;
      ahead += this.#levels[priority].size;
    }
    const level = this.#levels[entry.priority];
    const mine = level.seats.get(entry.tenant);
    const rank = mine?.line.position(entry.order) ?? null;
    if (!mine || rank === null) return null;
    if (level.ring.length === 1) return ahead + rank;
    for (let depth = 1; depth < Math.min(rank, LISTED_DEPTHS + 1); depth++) {
      ahead += (this.#atLeast(level, depth) as Seat[]).length - 1;
    }
    const first = level.ring[level.cursor % level.ring.length] as Seat;
    const asDeep = this.#atLeast(level, rank);
    if (asDeep) {
      // The seats from the one served next up to this one, the list being in ring order.
      const from = indexByJoined(asDeep, first);
      const to = indexByJoined(asDeep, mine);
      return ahead + rank + (from <= to ? to - from : asDeep.length - from + to);
    }
    // Deeper than the lists go: over the tenants with that many tasks, each in its turn's place
    // counted from the one served next (those that joined before it come last).
    const inTurn = (seat: Seat) => (seat.joined - first.joined + level.joins) % level.joins;
    for (const other of this.#atLeast(level, LISTED_DEPTHS) as Seat[]) {
      if (other === mine) continue;
      const size = other.line.size;
      ahead += Math.min(size, rank - 1) - LISTED_DEPTHS;
      if (size >= rank && inTurn(other) < inTurn(mine)) ahead++;
    }
    return ahead + rank;
  }

  /** The newest queued task of the lowest level below `priority`: the one shed for a higher one. */
  newestBelow(priority: Priority): QueueEntry | undefined {
    const above = PRIORITIES.indexOf(priority);
    for (let index = PRIORITIES.length - 1; index > above; index--) {
      const level = PRIORITIES[index] as Priority;
      let newest: QueueEntry | undefined;
      for (const { tenant, line } of this.#levels[level].seats.values()) {
        const last = line.last();
        if (last && (!newest || last.seq > newest.order)) {
          newest = { id: last.id, order: last.seq, priority: level, tenant };
        }
      }
      if (newest) return newest;
    }
    return undefined;
  }

  tenantQueued(tenant: string): number {
    return this.#queuedByTenant.get(tenant) ?? 0;
  }

  /** Each tenant with tasks queued or calls in flight. */
  *tenantLoads(): Generator<TenantLoad> {
    for (const [tenant, queued] of this.#queuedByTenant) {
      yield { tenant, queued, inFlight: this.#inFlightByTenant.get(tenant) ?? 0 };
    }
    for (const [tenant, inFlight] of this.#inFlightByTenant) {
      if (!this.#queuedByTenant.has(tenant)) yield { tenant, queued: 0, inFlight };
    }
  }

  /** Empties the queue, retries included, and returns what it held. */
  drain(): QueueEntry[] {
    const all: QueueEntry[] = [];
    for (const priority of PRIORITIES) {
      const level = this.#levels[priority];
      for (const { tenant, line } of level.seats.values()) {
        for (const { id, seq } of line.drain()) all.push({ id, order: seq, priority, tenant });
      }
      level.seats.clear();
      level.ring = [];
      for (const depth of level.deeper) depth.length = 0;
      level.cursor = 0;
      level.size = 0;
    }
    for (const { entry } of this.#delayed.values()) all.push(entry);
    this.#delayed.clear();
    this.#queuedByTenant.clear();
    this.#ready = 0;
    return all;
  }

  #leftLine(level: Level, seat: Seat): void {
    level.size--;
    this.#ready--;
    this.#count(this.#queuedByTenant, seat.tenant, -1);
    const wasAsDeep = this.#atLeast(level, seat.line.size + 1);
    if (wasAsDeep && wasAsDeep !== level.ring) wasAsDeep.splice(indexByJoined(wasAsDeep, seat), 1);
    if (seat.line.size > 0) return;
    level.seats.delete(seat.tenant);
    const at = indexByJoined(level.ring, seat);
    level.ring.splice(at, 1);
    if (level.cursor > at) level.cursor--;
    if (level.cursor >= level.ring.length) level.cursor = 0;
  }

  /** The seats with `depth` queued tasks or more, in ring order; undefined past the lists. */
  #atLeast(level: Level, depth: number): Seat[] | undefined {
    return depth === 1 ? level.ring : level.deeper[depth - 2];
  }

  #count(counts: Map<string, number>, tenant: string, by: number): void {
    const next = (counts.get(tenant) ?? 0) + by;
    if (next === 0) counts.delete(tenant);
    else counts.set(tenant, next);
  }
}

/** Where `seat` is, or would go, in a list of seats in joining order: a binary search. */
function indexByJoined(seats: readonly Seat[], seat: Seat): number {
  let low = 0;
  let high = seats.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((seats[mid] as Seat).joined < seat.joined) low = mid + 1;
    else high = mid;
  }
  return low;
}
