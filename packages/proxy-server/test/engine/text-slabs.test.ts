import { describe, expect, it } from 'vitest';
import { TextSlabs } from '../../src/engine/memory/text-slabs.js';

describe('TextSlabs', () => {
  it('gives back the very text, multi-byte characters included', () => {
    const slabs = new TextSlabs();
    const texts = [
      'plain ascii',
      '{"name":"Zoë","city":"Kraków"}',
      '日本語のテキスト',
      '🚀 emoji ✓',
      '',
    ];
    const kept = texts.map((text) => slabs.keep(text));
    expect(kept.map((bytes) => bytes.toString('utf8'))).toEqual(texts);
    expect(kept.map((bytes) => bytes.length)).toEqual(texts.map((t) => Buffer.byteLength(t)));
  });

  it('packs short texts into one shared buffer and starts another when one is full', () => {
    const slabs = new TextSlabs();
    const texts = Array.from({ length: 40 }, (_, i) =>
      `${i}:`.padEnd(1_000, String.fromCharCode(97 + (i % 26))),
    );
    const kept = texts.map((text) => slabs.keep(text));
    expect(kept.map((bytes) => bytes.toString('utf8'))).toEqual(texts);
    const buffers = new Set(kept.map((bytes) => bytes.buffer));
    // 40 texts of 1,000 bytes fill three 16 KiB slabs, 16 to a slab.
    expect(buffers.size).toBe(3);
    expect(kept[0]?.buffer).toBe(kept[15]?.buffer);
    expect(kept[15]?.buffer).not.toBe(kept[16]?.buffer);
  });

  it('never lets a later text overwrite an earlier one', () => {
    const slabs = new TextSlabs();
    const first = slabs.keep('a'.repeat(3_000));
    for (let i = 0; i < 100; i++) slabs.keep('b'.repeat(900));
    expect(first.toString('utf8')).toBe('a'.repeat(3_000));
  });

  it('gives a long text a buffer of its own', () => {
    const slabs = new TextSlabs();
    const small = slabs.keep('x'.repeat(100));
    const long = slabs.keep('y'.repeat(20_000));
    expect(long.toString('utf8')).toBe('y'.repeat(20_000));
    expect(long.buffer).not.toBe(small.buffer);
    expect(slabs.keep('z').buffer).toBe(small.buffer);
  });
});
