import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { watchReader } from '../../src/stalled-reader.js';
import { FakeClock } from '../engine/harness.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** An answer its client reads nothing of: the same bytes stay buffered. */
const unread = { writableFinished: false, writableLength: 1_000 } as unknown as Writable;

// Review: the watch measured the stall on the wall clock, so a step of it forward cut off a
// client that had paused for one look, and a step back kept a stalled one (and the answer it
// holds in memory) for as long as the step.
describe.each([
  ['forward a day', DAY_MS],
  ['back an hour', -HOUR_MS],
])('a stalled-reader watch with the wall clock stepped %s', (_name, stepMs) => {
  it('calls a reader stalled once it has really taken nothing for the stall time', () => {
    const clock = new FakeClock();
    let stalled = false;
    watchReader(unread, 1_000, clock, () => {
      stalled = true;
    });
    clock.advance(250);
    clock.stepWall(stepMs);
    clock.advance(500);
    expect(stalled).toBe(false);
    clock.advance(500);
    expect(stalled).toBe(true);
  });
});
