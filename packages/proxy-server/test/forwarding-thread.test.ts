import { setTimeout as sleep } from 'node:timers/promises';
import { binaryPattern, startSlowTarget } from 'slow-target';
import { waitFor } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent, LaneJob, LaneOptions } from '../src/forwarding/lane.js';
import { ThreadLane } from '../src/forwarding/thread-lane.js';
import { MemoryTaskStore } from '../src/index.js';
import { packHeaders } from '../src/tasks/stored-request.js';
import { configFor, startProxy } from './helper.js';

// The thread runs the built entry: `npm test` builds the packages first.
const BUILT_ENTRY = new URL('../dist/lane-thread.js', import.meta.url);

let target: Awaited<ReturnType<typeof startSlowTarget>>;
beforeAll(async () => {
  target = await startSlowTarget();
});
afterAll(() => target.close());

function laneOptions(maxConcurrent: number): LaneOptions {
  const config = configFor(target.url);
  return {
    upstream: {
      target: config.target,
      timeoutMs: null,
      resultSizeLimitBytes: config.resultSizeLimitBytes,
      maxInFlight: maxConcurrent,
      dropAuthorization: false,
    },
    numWorkers: maxConcurrent,
    maxConcurrent,
  };
}

const job = (id: string, path: string): LaneJob => ({
  id,
  method: 'GET',
  path,
  headers: packHeaders(['x-job', id]),
  body: null,
});

function recordingLane(maxConcurrent: number, entry = BUILT_ENTRY) {
  const events: LaneEvent[] = [];
  const stopped: Error[] = [];
  const ready: (number | null)[] = [];
  const lane = new ThreadLane(laneOptions(maxConcurrent), (batch) => events.push(...batch), {
    onStopped: (error) => stopped.push(error),
    onReady: (threadId) => ready.push(threadId),
    entry,
  });
  return { lane, events, stopped, ready };
}

describe('ThreadLane (the forwarding thread)', () => {
  it('makes the calls in its own thread, reports each started then finished, bytes as Buffers', async () => {
    const { lane, events, stopped, ready } = recordingLane(2);
    lane.enqueue([
      job('a', '/api/binary?bytes=300'),
      job('b', '/api/text'),
      job('c', '/api/fail?status=503'),
    ]);
    await waitFor(() => events.filter((event) => event.kind === 'finished').length === 3);
    for (const id of ['a', 'b', 'c']) {
      expect(events.filter((event) => event.id === id).map((event) => event.kind)).toEqual([
        'started',
        'finished',
      ]);
    }
    const finished = (id: string) => {
      const event = events.find((e) => e.id === id && e.kind === 'finished');
      if (event?.kind !== 'finished') throw new Error(`no finished event for ${id}`);
      return event.outcome;
    };
    const binary = finished('a').result;
    expect(binary?.encoding).toBe('base64');
    expect(Buffer.isBuffer(binary?.body)).toBe(true);
    expect(binary?.body).toEqual(binaryPattern(300));
    expect(finished('b')).toMatchObject({ status: 'completed', result: { encoding: 'text' } });
    expect(finished('c')).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_status' },
      result: { statusCode: 503 },
    });
    expect(await lane.drain(0)).toEqual([]);
    await lane.close();
    expect(stopped).toEqual([]);
    // Linux gives the thread's kernel id, which the proxy keeps at full priority.
    if (process.platform === 'linux') expect(ready).toEqual([expect.any(Number)]);
  });

  it('keeps the cap; drain gives back what never started and cuts off calls past the grace', async () => {
    const { lane, events } = recordingLane(1);
    lane.enqueue([
      job('slow', '/api/long?seconds=30'),
      job('next', '/api/text'),
      job('last', '/api/text'),
    ]);
    await waitFor(() => events.some((event) => event.id === 'slow' && event.kind === 'started'));
    await sleep(50);
    expect(events.map((event) => `${event.kind} ${event.id}`)).toEqual(['started slow']);
    expect(await lane.drain(100)).toEqual(['next', 'last']);
    expect(events.at(-1)).toMatchObject({
      kind: 'finished',
      id: 'slow',
      outcome: { status: 'failed', error: { code: 'interrupted' } },
    });
    await lane.close();
  });

  it('tells its owner when the thread dies, and a drain after that resolves at once', async () => {
    const failing = new URL('data:text/javascript,throw new Error("lane entry broke")');
    const { lane, stopped } = recordingLane(1, failing);
    await waitFor(() => stopped.length === 1);
    expect(stopped[0]?.message).toContain('lane entry broke');
    expect(await lane.drain(0)).toEqual([]);
    await lane.close();
  });
});

describe('the proxy when its forwarding thread cannot run', () => {
  it('logs why, and forwards on the main thread instead', async () => {
    const lines: { msg: string; level: number }[] = [];
    // From source the thread's entry is not next to the module, so the thread fails to start.
    const proxy = await startProxy(target.url, {
      flags: ['--log-level', 'error'],
      deps: {
        forwarding: 'thread',
        logStream: { write: (line) => lines.push(JSON.parse(line)) },
      },
    });
    await waitFor(() => lines.some((line) => line.msg.includes('forwarding thread stopped')));
    const task = await proxy.finished(await proxy.submit('/api/text'));
    expect(task.status).toBe('completed');
  });
});

describe('the proxy applying what the lane reports', () => {
  it('logs a store failure on one event and goes on applying the next ones', async () => {
    class FlakyStore extends MemoryTaskStore {
      failNextClaim = true;
      override async claim(id: string, startedAt: number): Promise<boolean> {
        if (this.failNextClaim) {
          this.failNextClaim = false;
          throw new Error('store unavailable');
        }
        return super.claim(id, startedAt);
      }
    }
    const lines: { msg: string; err?: { message: string } }[] = [];
    const proxy = await startProxy(target.url, {
      flags: ['--log-level', 'error', '--max-concurrent', '1', '--num-workers', '1'],
      deps: {
        store: new FlakyStore(),
        logStream: { write: (line) => lines.push(JSON.parse(line)) },
      },
    });
    await proxy.submit('/api/text');
    await waitFor(() => lines.some((line) => line.msg === 'applying lane events failed'));
    expect(lines.find((line) => line.err)?.err?.message).toBe('store unavailable');
    const next = await proxy.finished(await proxy.submit('/api/text'));
    expect(next.status).toBe('completed');
  });
});
