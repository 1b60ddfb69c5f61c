import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../src/queue/bounded-queue.js';

describe('BoundedQueue', () => {
  it('is FIFO across wrap-around and refuses a push when full', () => {
    const queue = new BoundedQueue<number>(3);
    expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual([0, 1, 2]);
    expect(queue.isFull).toBe(true);
    expect(queue.push(4)).toBeUndefined();
    expect(queue.shift()).toBe(1);
    expect(queue.push(4)).toBe(3);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      2,
      3,
      4,
      undefined,
    ]);
    expect(queue.size).toBe(0);
  });

  it('derives each item’s place in line from its sequence number', () => {
    const queue = new BoundedQueue<string>(5);
    const a = queue.push('a') ?? -1;
    const b = queue.push('b') ?? -1;
    const c = queue.push('c') ?? -1;
    expect([queue.positionOf(a), queue.positionOf(b), queue.positionOf(c)]).toEqual([1, 2, 3]);
    queue.shift();
    expect([queue.positionOf(a), queue.positionOf(b), queue.positionOf(c)]).toEqual([null, 1, 2]);
    expect(queue.nextSeq).toBe(3);
  });

  it('rejects a capacity below one', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
