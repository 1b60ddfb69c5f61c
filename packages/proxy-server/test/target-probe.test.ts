import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { freePort } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type Clock, systemClock } from '../src/clock.js';
import {
  PROBE_FRESH_MS,
  PROBE_HOLD_MS,
  PROBE_PATIENCE_MS,
  PROBE_STALE_MS,
  PROBE_TIMEOUT_MS,
  type ProbeResult,
  TargetProbe,
  type TargetProbeOptions,
} from '../src/upstream/target-probe.js';
import { FakeClock } from './engine/harness.js';
import { serveForTest } from './helper.js';

/** A target on an ephemeral port answering with `handler`, closed when the test ends. */
async function listening(handler?: RequestListener): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  return { server, origin: await serveForTest(server) };
}

/** A probe of the target at `origin`, closed when the test ends. */
function probeOf(origin: string, options?: TargetProbeOptions): TargetProbe {
  const probe = new TargetProbe({ origin, basePath: '', url: origin }, options);
  onTestFinished(() => probe.close());
  return probe;
}

/** A target that counts the HEAD requests it gets. */
async function countingTarget() {
  const seen = { heads: 0 };
  const { origin } = await listening((req, res) => {
    if (req.method === 'HEAD') seen.heads++;
    res.end();
  });
  return { seen, target: { origin, basePath: '', url: origin } };
}

describe('TargetProbe', () => {
  it('asks the target at most once per PROBE_FRESH_MS however often it is asked', async () => {
    const { seen, target } = await countingTarget();
    const clock = new FakeClock();
    const probe = new TargetProbe(target, { clock });
    onTestFinished(() => probe.close());

    const together = await Promise.all([probe.probe(), probe.probe(), probe.probe()]);
    expect(together.every((result) => result.reachable)).toBe(true);
    expect(seen.heads).toBe(1);
    for (let i = 0; i < 20; i++) await probe.probe();
    clock.advance(PROBE_FRESH_MS - 1);
    expect(await probe.probe()).toEqual(together[0]);
    expect(seen.heads).toBe(1);

    clock.advance(1);
    expect((await probe.probe()).reachable).toBe(true);
    expect(seen.heads).toBe(2);
  });

  it('asks again when the clock was set back', async () => {
    const { seen, target } = await countingTarget();
    let now = 1_000_000;
    const clock: Clock = { ...systemClock, now: () => now };
    const probe = new TargetProbe(target, { clock });
    onTestFinished(() => probe.close());
    await probe.probe();
    now -= 3_600_000;
    await probe.probe();
    expect(seen.heads).toBe(2);
  });
});

/** A target that takes connections and answers nothing: its origin, and the requests it got. */
async function silentTarget(): Promise<{ origin: string; requests: () => number }> {
  let requests = 0;
  const { origin } = await listening(() => {
    requests++;
  });
  return { origin, requests: () => requests };
}

describe('TargetProbe on a target that takes the connection and does not answer', () => {
  // A target that serves as many calls at once as the cap lets through is busy with them all
  // while it works as it should: /health read it as unreachable for as long as that lasted.
  it('reports it reachable while the proxy has calls in flight, saying it is busy', async () => {
    const { origin, requests } = await silentTarget();
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock, callsInFlight: async () => 2 });
    const asked = probe.probe();
    await vi.waitFor(() => expect(requests()).toBe(1));
    clock.advance(PROBE_TIMEOUT_MS);
    expect(await asked).toEqual({
      reachable: true,
      latencyMs: null,
      message: expect.stringMatching(
        /^accepted the connection but gave no answer to HEAD within 2 s: busy/,
      ),
    });
  });

  // Review: a stopped (SIGSTOP) or deadlocked target read as busy for ever, and nothing else
  // tells it by default (calls have no timeout): with no call in flight the silence is no load.
  it('reports it unreachable, hung, with no call in flight', async () => {
    const { origin, requests } = await silentTarget();
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock });
    const asked = probe.probe();
    await vi.waitFor(() => expect(requests()).toBe(1));
    clock.advance(PROBE_TIMEOUT_MS);
    expect(await asked).toEqual({
      reachable: false,
      latencyMs: null,
      message: expect.stringMatching(
        /no answer to HEAD within 2 s, with no call .* in flight: hung/,
      ),
    });
  });

  it('reports a port where nothing listens unreachable, saying so', async () => {
    const origin = `http://127.0.0.1:${await freePort()}`;
    const probe = probeOf(origin);
    expect(await probe.probe()).toEqual({
      reachable: false,
      latencyMs: null,
      message: expect.stringMatching(/ECONNREFUSED|refused/),
    });
  });
});

describe('TargetProbe when a new probe is slow', () => {
  // Kubernetes asks every 10 s with a timeout of 1 s: each ask started a probe and waited for it.
  it('answers the last result once it has waited PROBE_PATIENCE_MS, and the new one after', async () => {
    let heads = 0;
    const { origin } = await listening((req, res) => {
      if (req.method === 'HEAD' && ++heads === 1) res.end();
    });
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock });
    const first = await probe.probe();
    expect(first).toMatchObject({ reachable: true, message: null });

    clock.advance(PROBE_FRESH_MS);
    let answered: unknown = null;
    void probe.probe().then((result) => {
      answered = result;
    });
    await vi.waitFor(() => expect(heads).toBe(2));
    clock.advance(PROBE_PATIENCE_MS - 1);
    await Promise.resolve();
    expect(answered).toBeNull();
    clock.advance(1);
    await vi.waitFor(() => expect(answered).toEqual(first));

    clock.advance(PROBE_TIMEOUT_MS - PROBE_PATIENCE_MS);
    await vi.waitFor(async () => expect((await probe.probe()).message).toMatch(/no answer/));
    expect(heads).toBe(2);
  });

  // Review: an answer of hours ago stood in for the target's state after half a second.
  it('waits for the new probe when the last answer is over PROBE_STALE_MS old', async () => {
    let heads = 0;
    const { origin } = await listening((req, res) => {
      if (req.method === 'HEAD' && ++heads === 1) res.end();
    });
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock });
    expect(await probe.probe()).toMatchObject({ reachable: true, message: null });

    clock.advance(PROBE_STALE_MS);
    let answered: ProbeResult | null = null;
    void probe.probe().then((result) => {
      answered = result;
    });
    await vi.waitFor(() => expect(heads).toBe(2));
    clock.advance(PROBE_PATIENCE_MS);
    await Promise.resolve();
    expect(answered).toBeNull();
    clock.advance(PROBE_TIMEOUT_MS - PROBE_PATIENCE_MS);
    await vi.waitFor(() => expect(answered).toMatchObject({ reachable: false }));
  });
});

describe('TargetProbe on a target busy for longer than the probes come', () => {
  // A HEAD given up waited on in the target's accept queue: a single-threaded target's backlog
  // filled with them, and the next probe could not connect, read as unreachable.
  it('keeps one HEAD under way until it is answered, however often it is asked', async () => {
    const seen = { connections: 0, heads: 0 };
    const held: ServerResponse[] = [];
    let free = false;
    const { server, origin } = await listening((req, res) => {
      if (req.method === 'HEAD') seen.heads++;
      if (free) res.end();
      else held.push(res);
    });
    server.on('connection', () => seen.connections++);
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock, callsInFlight: async () => 1 });

    for (let ask = 0; ask < 3; ask++) {
      const asked = probe.probe();
      await vi.waitFor(() => expect(seen.heads).toBe(1));
      clock.advance(PROBE_TIMEOUT_MS);
      expect(await asked).toMatchObject({ reachable: true, latencyMs: null });
      clock.advance(PROBE_FRESH_MS);
    }
    // Nothing more to wait for but a HEAD sent in error: it leaves at once, well within this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual({ connections: 1, heads: 1 });

    free = true;
    held[0]?.end();
    await vi.waitFor(async () => {
      clock.advance(PROBE_FRESH_MS);
      expect(await probe.probe()).toMatchObject({ reachable: true, message: null });
    });
  });
});

describe('TargetProbe on a target that stays silent past PROBE_HOLD_MS', () => {
  // Kept for ever, the one HEAD would read a target gone without closing its connection (a
  // network partition) as busy until TCP gave up on it, minutes later.
  it('gives that HEAD up, and the next probe sends a new one', async () => {
    const seen = { connections: 0, heads: 0, closed: 0 };
    const { server, origin } = await listening((req) => {
      if (req.method === 'HEAD') seen.heads++;
    });
    server.on('connection', (socket) => {
      seen.connections++;
      socket.on('close', () => seen.closed++);
    });
    const clock = new FakeClock();
    const probe = probeOf(origin, { clock, callsInFlight: async () => 1 });

    const first = probe.probe();
    await vi.waitFor(() => expect(seen.heads).toBe(1));
    clock.advance(PROBE_TIMEOUT_MS);
    expect(await first).toMatchObject({ reachable: true, latencyMs: null });
    clock.advance(PROBE_HOLD_MS);
    await vi.waitFor(() => expect(seen.closed).toBe(1));
    const next = probe.probe();
    await vi.waitFor(() => expect(seen).toEqual({ connections: 2, heads: 2, closed: 1 }));
    clock.advance(PROBE_TIMEOUT_MS);
    expect(await next).toMatchObject({ reachable: true, latencyMs: null });
  });
});
