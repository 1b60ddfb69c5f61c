import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/engine/local/min-heap.js';
import { type QueueEntry, TaskScheduler } from '../../src/engine/local/scheduler.js';
import { PRIORITIES } from '../../src/engine/task-record.js';
import { seededRandom } from '../seeded-random.js';

/**
 * Plays random admissions (some with a deadline), starts (some put back, as a start that could
 * not be saved), cancels, retries, expiries and the odd drain on a scheduler, the step number
 * as the time; the same seed plays the same sequence, so two schedulers played from one seed
 * for as many steps are in the same state.
 */
function played(
  seed: number,
  steps: number,
  tenants: number,
): { queue: TaskScheduler; queued: QueueEntry[] } {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const queue = new TaskScheduler();
  const queued = new Map<string, QueueEntry>();
  let order = 0;
  for (let step = 0; step < steps; step++) {
    for (const expired of queue.expire(step)) queued.delete(expired.id);
    const roll = random();
    if (roll < 0.55) {
      const entry = {
        id: `t${order}`,
        order: order++,
        priority: pick(PRIORITIES),
        tenant: `tenant-${Math.floor(random() ** 2 * tenants)}`,
      };
      queue.add(entry, random() < 0.1 ? step + 1 + Math.floor(random() * 100) : null);
      queued.set(entry.id, entry);
    } else if (roll < 0.8) {
      const taken = queue.take();
      if (taken && random() < 0.2) queue.add(taken);
      else if (taken) queued.delete(taken.id);
    } else if (roll < 0.9 && queued.size > 0) {
      const entry = pick([...queued.values()]);
      queue.remove(entry);
      queued.delete(entry.id);
    } else if (roll < 0.999 && queued.size > 0) {
      // A task that failed and waited for its retry comes back in its place by admission order.
      const entry = pick([...queued.values()]);
      queue.remove(entry);
      queue.addDelayed(entry, step);
      queue.promote(step);
    } else if (roll >= 0.999) {
      queue.drain();
      queued.clear();
    }
  }
  return { queue, queued: [...queued.values()] };
}

/** Each queued task's position, and the turn in which take() hands it out. */
function positionsAndTurns(seed: number, steps: number, tenants: number) {
  const { queue, queued } = played(seed, steps, tenants);
  const replay = played(seed, steps, tenants).queue;
  const turnOf = new Map<string, number>();
  for (let taken = replay.take(); taken; taken = replay.take()) {
    turnOf.set(taken.id, turnOf.size + 1);
  }
  return {
    positions: queued.map((entry) => ({ id: entry.id, at: queue.position(entry) })),
    turns: queued.map((entry) => ({ id: entry.id, at: turnOf.get(entry.id) })),
    taken: turnOf.size,
  };
}

/** Adds normal tasks of a tenant to `queue`, in admission order; returns each one added. */
function adding(queue: TaskScheduler): (tenant: string) => QueueEntry {
  let order = 0;
  return (tenant) => {
    const entry = { id: `t${order}`, order: order++, priority: 'normal' as const, tenant };
    queue.add(entry);
    return entry;
  };
}

describe('TaskScheduler', () => {
  it.each([
    { seed: 1, steps: 300, tenants: 1 },
    { seed: 2, steps: 300, tenants: 3 },
    { seed: 3, steps: 2_000, tenants: 12 },
    { seed: 4, steps: 2_000, tenants: 200 },
    { seed: 5, steps: 5_000, tenants: 40 },
  ])(
    'gives each queued task the turn take() hands it out at (seed $seed, $tenants tenants)',
    ({ seed, steps, tenants }) => {
      let checked = 0;
      for (let at = 1; at <= 8; at++) {
        const { positions, turns, taken } = positionsAndTurns(seed, (steps * at) / 8, tenants);
        expect(taken).toBe(positions.length);
        expect(positions).toEqual(turns);
        checked += positions.length;
      }
      expect(checked).toBeGreaterThan(0);
    },
  );

  it('serves a tenant that joins as a turn starts over at once, and says so', () => {
    const queue = new TaskScheduler();
    const add = adding(queue);
    const [, , aLast, , , bLast] = ['A', 'A', 'A', 'B', 'B', 'B'].map(add);
    queue.take();
    queue.take();
    // Past the last tenant, the next turn starts at A: A's, B's, A's last, B's last.
    expect([aLast, bLast].map((entry) => queue.position(entry as QueueEntry))).toEqual([3, 4]);
    const newcomer = add('C');
    expect(queue.position(newcomer)).toBe(1);
    expect(queue.take()?.id).toBe(newcomer.id);
  });

  it('places a newcomer among many tenants by their turns, not by arrival', () => {
    const queue = new TaskScheduler();
    const add = adding(queue);
    for (let n = 0; n < 1_000; n++) add('busy');
    for (let n = 0; n < 5_000; n++) add(`caller-${n}`);
    queue.take();
    // busy has a task in each of 1,000 turns; every caller one in the first.
    const busyLast = add('busy');
    expect(queue.position(busyLast)).toBe(5_000 + 1_000);
    const late = add('late');
    expect(queue.position(late)).toBe(5_000 + 1);
    const lateSecond = add('late');
    // The callers' tasks, late's first, busy's next, then this one.
    expect(queue.position(lateSecond)).toBe(5_000 + 1 + 1 + 1);
  });
});

describe('TaskScheduler deadlines', () => {
  // Code review: every deadline stayed in the heap until it passed, a year for a caller's
  // header; the heap is pruned of tasks no longer queued, and what is queued still expires.
  it('expire the tasks still queued on time, however many came and went before them', () => {
    const queue = new TaskScheduler();
    const add = adding(queue);
    const YEAR = 365 * 24 * 3_600_000;
    const kept = { id: 'kept', order: -1, priority: 'normal' as const, tenant: '' };
    queue.add(kept, 50);
    const putBack = { id: 'put-back', order: -2, priority: 'normal' as const, tenant: '' };
    queue.add(putBack, 60);
    // A start the store refused puts its task back without its deadline: the heap's still holds.
    queue.take();
    queue.take();
    queue.add(kept);
    queue.add(putBack);
    for (let i = 0; i < 20_000; i++) {
      const entry = add('');
      queue.remove(entry);
      queue.add({ ...entry, id: `far-${i}` }, YEAR);
      queue.remove({ ...entry, id: `far-${i}` });
    }
    expect(queue.expire(49)).toEqual([]);
    expect(queue.expire(60)).toEqual([kept, putBack]);
    expect(queue.size).toBe(0);
  });
});

describe('MinHeap.retain', () => {
  it('keeps what it is told to, still a heap', () => {
    const heap = new MinHeap<number>((n) => n);
    for (const n of [9, 3, 7, 1, 8, 2, 6, 4, 5]) heap.push(n);
    heap.retain((n) => n % 2 === 1);
    const popped = [];
    for (let n = heap.pop(); n !== undefined; n = heap.pop()) popped.push(n);
    expect(popped).toEqual([1, 3, 5, 7, 9]);
  });
});
