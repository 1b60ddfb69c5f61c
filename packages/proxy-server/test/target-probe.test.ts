import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type Clock, systemClock } from '../src/clock.js';
import { PROBE_FRESH_MS, PROBE_PATIENCE_MS, TargetProbe } from '../src/upstream/target-probe.js';
import { FakeClock } from './engine/harness.js';

/** A target that counts the HEAD requests it gets. */
async function countingTarget() {
  const seen = { heads: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'HEAD') seen.heads++;
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { seen, target: { origin, basePath: '', url: origin } };
}

describe('TargetProbe', () => {
  it('asks the target at most once per PROBE_FRESH_MS however often it is asked', async () => {
    const { seen, target } = await countingTarget();
    const clock = new FakeClock();
    const probe = new TargetProbe(target, undefined, clock);
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
    const probe = new TargetProbe(target, undefined, clock);
    onTestFinished(() => probe.close());
    await probe.probe();
    now -= 3_600_000;
    await probe.probe();
    expect(seen.heads).toBe(2);
  });
});

describe('TargetProbe on a target that takes the connection and does not answer', () => {
  // A target that serves as many calls at once as the cap lets through is busy with them all
  // while it works as it should: /health read it as unreachable for as long as that lasted.
  it('reports it reachable, saying it gave no answer', async () => {
    const server = createServer(() => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = new TargetProbe({ origin, basePath: '', url: origin });
    onTestFinished(() => probe.close());
    const result = await probe.probe();
    expect(result).toEqual({
      reachable: true,
      latencyMs: null,
      message: expect.stringMatching(
        /^accepted the connection but gave no answer to HEAD within 2 s: busy/,
      ),
    });
  });

  it('reports a port where nothing listens unreachable, saying so', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    const probe = new TargetProbe({ origin, basePath: '', url: origin });
    onTestFinished(() => probe.close());
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
    const server = createServer((req, res) => {
      if (req.method === 'HEAD' && ++heads === 1) res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clock = new FakeClock();
    const probe = new TargetProbe({ origin, basePath: '', url: origin }, undefined, clock);
    onTestFinished(() => probe.close());
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

    await vi.waitFor(async () => expect((await probe.probe()).message).toMatch(/no answer/), {
      timeout: 5_000,
    });
    expect(heads).toBe(2);
  });
});
