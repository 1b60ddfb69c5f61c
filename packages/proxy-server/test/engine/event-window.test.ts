import { describe, expect, it } from 'vitest';
import { EventWindow } from '../../src/engine/local/event-window.js';
import type { TaskEvent } from '../../src/engine/task-backend.js';

const BOOT = 0;
const idOf = (n: number) => `${BOOT.toString(36)}-${n}`;

function windowOf(capacity: number): EventWindow {
  return new EventWindow(capacity, BOOT, (error) => {
    throw error;
  });
}

function publish(window: EventWindow, count: number): void {
  for (let i = 0; i < count; i++) window.publish({ type: 'removed', count: 1, local: true });
}

/** An event stream that hears `count` events, then leaves. */
function streamHears(window: EventWindow, count: number): void {
  const stream = window.subscribe(() => {}, { resumable: true });
  publish(window, count);
  stream.close();
}

/** The events a subscriber resuming after event `after` is replayed, or null when incomplete. */
function resumeAfter(window: EventWindow, after: number): string[] | null {
  const replayed: TaskEvent[] = [];
  const subscription = window.subscribe((event) => replayed.push(event), { after: idOf(after) });
  subscription.close();
  return subscription.complete ? replayed.map((event) => event.id) : null;
}

describe('EventWindow', () => {
  it('tells every listener every event, resumable or not', () => {
    const window = windowOf(3);
    const heard: string[] = [];
    const internal = window.subscribe((event) => heard.push(`internal ${event.id}`));
    const stream = window.subscribe((event) => heard.push(`stream ${event.id}`), {
      resumable: true,
    });
    publish(window, 1);
    expect(heard).toEqual([`internal ${idOf(1)}`, `stream ${idOf(1)}`]);
    internal.close();
    stream.close();
    expect(window.size).toBe(0);
  });

  it('replays what a resumable listener missed within the window, and says when it cannot', () => {
    const window = windowOf(3);
    streamHears(window, 5);
    publish(window, 2);
    expect(resumeAfter(window, 5)).toEqual([idOf(6), idOf(7)]);
    expect(resumeAfter(window, 4)).toEqual([idOf(5), idOf(6), idOf(7)]);
    expect(resumeAfter(window, 3)).toBeNull();
  });

  it('keeps events for a window past the last one a resumable listener heard, then none', () => {
    const window = windowOf(3);
    streamHears(window, 2);
    publish(window, 3);
    expect(resumeAfter(window, 2)).toEqual([idOf(3), idOf(4), idOf(5)]);
    publish(window, 1);
    // Event 6 was not kept: no client can resume after 2 any more, nor after any id since.
    expect(resumeAfter(window, 2)).toBeNull();
    expect(resumeAfter(window, 5)).toBeNull();
  });

  it('keeps nothing while only internal listeners hear, and resumes keeping once a stream listens', () => {
    const window = windowOf(3);
    const internal = window.subscribe(() => {});
    publish(window, 10);
    // An id no stream ever handed out, inside the window's range: its events were not kept.
    expect(resumeAfter(window, 8)).toBeNull();
    const stream = window.subscribe(() => {}, { resumable: true });
    publish(window, 2);
    expect(resumeAfter(window, 10)).toEqual([idOf(11), idOf(12)]);
    expect(resumeAfter(window, 9)).toBeNull();
    stream.close();
    internal.close();
  });

  it('refuses an id from another boot or one not yet published', () => {
    const window = windowOf(3);
    const stream = window.subscribe(() => {}, { resumable: true });
    publish(window, 2);
    expect(resumeAfter(window, 2)).toEqual([]);
    expect(resumeAfter(window, 3)).toBeNull();
    const replayed: TaskEvent[] = [];
    const other = window.subscribe((event) => replayed.push(event), { after: 'zz-1' });
    expect(other.complete).toBe(false);
    expect(replayed).toEqual([]);
    other.close();
    stream.close();
  });

  it.each(['-', '--1', '-0x1', '-1e0', '- 1', '-1-zzz', '-+1', '-1.0', ''])(
    'refuses the id "<boot>%s": only the digits it wrote resume',
    (tail) => {
      const window = windowOf(3);
      const stream = window.subscribe(() => {}, { resumable: true });
      publish(window, 2);
      const other = window.subscribe(() => {}, { after: `${BOOT.toString(36)}${tail}` });
      expect(other.complete).toBe(false);
      other.close();
      stream.close();
    },
  );
});
