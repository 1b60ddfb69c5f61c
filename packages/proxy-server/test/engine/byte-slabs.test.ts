import { describe, expect, it } from 'vitest';
import { ByteSlabs } from '../../src/engine/memory/byte-slabs.js';

describe('ByteSlabs', () => {
  it('hands out room of the size asked for, one record after another in a shared slab', () => {
    const slabs = new ByteSlabs();
    const rooms = [10, 0, 300, 1].map((size) => slabs.room(size));
    expect(rooms.map((room) => room.end - room.start)).toEqual([10, 0, 300, 1]);
    expect(new Set(rooms.map((room) => room.slab)).size).toBe(1);
    expect(rooms.map((room) => room.start)).toEqual([0, 10, 10, 310]);
  });

  it('starts another slab when one is full', () => {
    const slabs = new ByteSlabs();
    const rooms = Array.from({ length: 40 }, () => slabs.room(1_000));
    // 40 records of 1,000 bytes fill three 16 KiB slabs, 16 to a slab.
    expect(new Set(rooms.map((room) => room.slab)).size).toBe(3);
    expect(rooms[0]?.slab).toBe(rooms[15]?.slab);
    expect(rooms[15]?.slab).not.toBe(rooms[16]?.slab);
  });

  it('never lets later records overwrite an earlier one', () => {
    const slabs = new ByteSlabs();
    const first = slabs.room(3_000);
    first.slab.fill(0x61, first.start, first.end);
    for (let i = 0; i < 100; i++) {
      const room = slabs.room(900);
      room.slab.fill(0x62, room.start, room.end);
    }
    expect(first.slab.toString('latin1', first.start, first.end)).toBe('a'.repeat(3_000));
  });

  it('gives a long record a buffer of its own and goes on filling the slab', () => {
    const slabs = new ByteSlabs();
    const small = slabs.room(100);
    const long = slabs.room(20_000);
    expect(long.slab).not.toBe(small.slab);
    expect(long.slab.length).toBe(20_000);
    expect([long.start, long.end]).toEqual([0, 20_000]);
    expect(slabs.room(1).slab).toBe(small.slab);
  });
});
