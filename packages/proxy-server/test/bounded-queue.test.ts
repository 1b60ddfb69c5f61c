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

  it('numbers pushed items in order, shifts included', () => {
    const queue = new BoundedQueue<string>(5);
    expect([queue.push('a'), queue.push('b')]).toEqual([0, 1]);
    queue.shift();
    expect(queue.push('c')).toBe(2);
    expect(queue.nextSeq).toBe(3);
  });

  it('keeps FIFO order while its ring grows past the first allocation, wrapped or not', () => {
    const queue = new BoundedQueue<number>(5000);
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 700; i++) queue.push(next++);
    for (let i = 0; i < 500; i++) expect(queue.shift()).toBe(expected++);
    // The ring has wrapped: the next pushes force growth with the head in the middle.
    while (!queue.isFull) queue.push(next++);
    expect(queue.size).toBe(5000);
    expect(queue.push(next)).toBeUndefined();
    while (queue.size > 0) expect(queue.shift()).toBe(expected++);
    expect(expected).toBe(next);
  });

  it('rejects a capacity below one', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
