import { describe, expect, it } from 'vitest';
import { PendingLine } from '../../src/engine/local/pending-line.js';

function lineOf(seqs: number[]): PendingLine {
  const line = new PendingLine();
  for (const seq of seqs) line.push(`t${seq}`, seq);
  return line;
}

describe('PendingLine', () => {
  it('gives tasks back front first, with their places in line', () => {
    const line = lineOf([3, 7, 9]);
    expect([line.position(3), line.position(7), line.position(9)]).toEqual([1, 2, 3]);
    expect(line.shift()).toEqual({ id: 't3', seq: 3 });
    expect([line.position(3), line.position(7), line.position(9)]).toEqual([null, 1, 2]);
    expect(line.size).toBe(2);
  });

  it('keeps places exact when a task leaves from the middle', () => {
    const line = lineOf([1, 2, 3, 4]);
    expect(line.remove(2)).toBe(true);
    expect(line.remove(2)).toBe(false);
    expect([line.position(1), line.position(3), line.position(4)]).toEqual([1, 2, 3]);
    expect(line.drain().map((task) => task.seq)).toEqual([1, 3, 4]);
    expect(line.size).toBe(0);
  });

  it('puts a task taken from the front back in its place', () => {
    const line = lineOf([5, 6, 8]);
    const first = line.shift();
    const second = line.shift();
    line.restore(second as { id: string; seq: number });
    line.restore(first as { id: string; seq: number });
    expect(line.drain().map((task) => task.seq)).toEqual([5, 6, 8]);
  });

  it('stays in order over a million tasks taken and added, compacting as it goes', () => {
    const line = new PendingLine();
    let next = 0;
    let taken = 0;
    let outOfOrder = 0;
    for (let round = 0; round < 1_000; round++) {
      for (let i = 0; i < 1_000; i++) line.push(`t${next}`, next++);
      for (let i = 0; i < 990; i++) if (line.shift()?.seq !== taken++) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(line.size).toBe(10_000);
    expect(line.position(taken)).toBe(1);
    expect(line.position(next - 1)).toBe(10_000);
  });

  it('answers null for a task not in line, and nothing from an empty line', () => {
    const line = new PendingLine();
    expect(line.shift()).toBeUndefined();
    expect(line.position(1)).toBeNull();
    expect(line.remove(1)).toBe(false);
  });
});
