import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DataBody, Task } from 'proxy-client/wire';
import { spawnProxyServer } from 'test-support';
import { Pool } from 'undici';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { UpstreamCall, type UpstreamOutcome } from '../src/upstream/upstream-call.js';
import { UpstreamClient } from '../src/upstream/upstream-client.js';
import { FakeClock } from './engine/harness.js';
import { startProxy } from './helper.js';

// Review: a stop of a call (its timeout, a cancel, the end of a shutdown's grace) waited for
// undici to start the request, which it does only on a connected socket: a target that never
// finished its TLS handshake held the call for the whole 10 s connect timeout. `--upstream-timeout
// 1` failed the task after 11 s saying "after 1000 ms", a cancelled call kept its slot from the
// next task, and a SIGTERM with `--shutdown-grace 1` took 11.7 s to exit.

/** The pool's connect timeout (CONNECT_TIMEOUT_MS): a stopped call waits for none of it. */
const CONNECT_TIMEOUT_MS = 10_000;
/** For what must happen well before undici could give the connect up. */
const WELL_WITHIN_THE_CONNECT_TIMEOUT = { timeout: CONNECT_TIMEOUT_MS / 2, interval: 20 };

interface HeldConnection {
  closed: boolean;
}

/**
 * An https:// target that takes each connection and says nothing, so the TLS handshake never
 * completes: undici's connect stays pending until its timeout.
 */
async function stalledTlsTarget() {
  const connections: HeldConnection[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const held = { closed: false };
    connections.push(held);
    sockets.add(socket);
    socket.on('error', () => {});
    // Reads the ClientHello, unanswered: a socket left paused would never tell of its close.
    socket.resume();
    socket.on('close', () => {
      held.closed = true;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hangUp = () => {
    for (const socket of sockets) socket.destroy();
  };
  onTestFinished(() => {
    hangUp();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, connections, hangUp };
}

function clientFor(url: string, timeoutMs: number | null, pool?: Pool) {
  const client = new UpstreamClient(
    {
      target: { origin: url, basePath: '', url },
      timeoutMs,
      resultSizeLimitBytes: 1024,
      maxInFlight: 1,
      dropAuthorization: false,
      clock: new FakeClock(),
    },
    pool,
  );
  onTestFinished(() => (pool ? pool.destroy() : client.close()));
  return client;
}

/** The call's outcome once it settles, and what `look` saw at that moment; undefined before. */
function settling<T>(
  promise: Promise<UpstreamOutcome>,
  look: () => T = () => undefined as T,
): () => { outcome: UpstreamOutcome; seen: T } | undefined {
  let settled: { outcome: UpstreamOutcome; seen: T } | undefined;
  void promise.then((outcome) => {
    settled = { outcome, seen: look() };
  });
  return () => settled;
}

/** Connect failures undici reports for connections to `url`. */
function connectErrors(url: string): () => number {
  const { port } = new URL(url);
  let count = 0;
  const onError = (message: unknown) => {
    if (String((message as { connectParams: { port: unknown } }).connectParams.port) === port)
      count++;
  };
  subscribe('undici:client:connectError', onError);
  onTestFinished(() => {
    unsubscribe('undici:client:connectError', onError);
  });
  return () => count;
}

const request = { method: 'POST', path: '/api/x', rawHeaders: [], body: null };

describe('an upstream call whose connect stalls (a TLS handshake never answered)', () => {
  it('times out after its own timeout, naming it, before undici gives the connect up', async () => {
    const target = await stalledTlsTarget();
    const failedConnects = connectErrors(target.url);
    const settled = settling(
      clientFor(target.url, 200).send(request, new AbortController().signal),
      failedConnects,
    );
    await vi.waitFor(() => expect(settled()).toBeDefined(), WELL_WITHIN_THE_CONNECT_TIMEOUT);
    expect(settled()).toMatchObject({
      outcome: {
        ok: false,
        error: { code: 'upstream_timeout', message: expect.stringMatching(/\(after 200 ms\)$/) },
      },
      seen: 0,
    });
  });

  it('leaves at most a pool of stopped calls\u2019 requests with undici, then waits for room', async () => {
    const target = await stalledTlsTarget();
    // As UpstreamClient's own for one call at once (2 connections), where the test can count.
    const pool = new Pool(target.url, { connections: 2, connect: { timeout: 10_000 } });
    const client = clientFor(target.url, 100, pool);
    for (let n = 0; n < 6; n++) {
      const outcome = await client.send(request, new AbortController().signal);
      expect(outcome).toMatchObject({ ok: false, error: { code: 'upstream_timeout' } });
    }
    // Each call timed out on time; the last four never reached undici, whose pool holds the
    // first two (their connects still pending), not a request per call.
    expect(pool.stats.size).toBe(2);
    expect(target.connections).toEqual([{ closed: false }, { closed: false }]);
    // Those connects end (the target hangs up): their room is free for the next call.
    target.hangUp();
    await vi.waitFor(() => expect(pool.stats.size).toBe(0));
    const next = settling(client.send(request, new AbortController().signal));
    await vi.waitFor(() => expect(target.connections).toHaveLength(3));
    expect(pool.stats.size).toBe(1);
    target.hangUp();
    await vi.waitFor(() => expect(next()?.outcome).toMatchObject({ ok: false }));
  });

  it('keeps nothing of a call stopped while it waits for room, its body above all', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const target = await stalledTlsTarget();
    const pool = new Pool(target.url, { connections: 2, connect: { timeout: 10_000 } });
    const client = clientFor(target.url, 20, pool);
    // The first two take the pool's room (their connects stall); the rest time out waiting.
    const bodies: WeakRef<Buffer>[] = [];
    const sendABody = async () => {
      const body = Buffer.alloc(1024 * 1024, 1);
      bodies.push(new WeakRef(body));
      return (await client.send({ ...request, body }, new AbortController().signal)).ok;
    };
    for (let n = 0; n < 6; n++) expect(await sendABody()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    // Those undici holds until their connects end; none that never reached it.
    expect(bodies.slice(2).map((body) => body.deref() === undefined)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('ends interrupted as soon as it is aborted (a cancel, a shutdown)', async () => {
    const target = await stalledTlsTarget();
    const stop = new AbortController();
    const settled = settling(clientFor(target.url, null).send(request, stop.signal));
    await vi.waitFor(() => expect(target.connections).toHaveLength(1));
    stop.abort();
    // Before any I/O: nothing it waits for can end it any more.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled()?.outcome).toMatchObject({ ok: false, error: { code: 'interrupted' } });
    expect(target.connections).toEqual([{ closed: false }]);
  });

  it('lets the connect it left fail later without a word', async () => {
    const target = await stalledTlsTarget();
    const failedConnects = connectErrors(target.url);
    const stop = new AbortController();
    const settled = settling(clientFor(target.url, null).send(request, stop.signal));
    await vi.waitFor(() => expect(target.connections).toHaveLength(1));
    stop.abort();
    await vi.waitFor(() => expect(settled()).toBeDefined());
    // undici's connect goes on in the pool, and fails: no second outcome, no unhandled error.
    target.hangUp();
    await vi.waitFor(() => expect(failedConnects()).toBe(1));
    expect(settled()?.outcome).toMatchObject({ ok: false, error: { code: 'interrupted' } });
  });
});

describe('an UpstreamCall stopped before undici starts it', () => {
  it('settles once, and aborts the request when undici starts it after all', () => {
    const settle = vi.fn();
    const call = new UpstreamCall({ resultSizeLimitBytes: 1024, timeoutMs: 60_000 }, settle);
    call.stop('timeout');
    expect(settle).toHaveBeenCalledOnce();
    expect(settle).toHaveBeenCalledWith({
      ok: false,
      error: expect.objectContaining({ code: 'upstream_timeout' }),
    });
    // The connect completed later: the request must not go out.
    const controller = { abort: vi.fn() };
    call.onRequestStart(controller as never);
    expect(controller.abort).toHaveBeenCalledOnce();
    call.onResponseError(controller as never, new Error('aborted'));
    expect(settle).toHaveBeenCalledOnce();
  });
});

describe('a proxy whose target never completes the TLS handshake', () => {
  it('fails a task upstream_timeout after the timeout it names (--upstream-timeout 1)', async () => {
    const target = await stalledTlsTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--upstream-timeout', '1'],
    });
    const id = await proxy.submit('/api/x');
    const task = await proxy.finished(id, WELL_WITHIN_THE_CONNECT_TIMEOUT.timeout);
    expect(task).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_timeout', message: expect.stringMatching(/\(after 1000 ms\)$/) },
    });
  });

  it('frees a cancelled call’s slot for the next task at once', async () => {
    const target = await stalledTlsTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--num-workers', '1', '--max-concurrent', '1'],
    });
    const first = await proxy.submit('/api/x?n=1');
    const next = await proxy.submit('/api/x?n=2');
    await vi.waitFor(() => expect(target.connections).toHaveLength(1));
    expect((await proxy.getTask(next)).status).toBe('pending');
    const cancelled = await fetch(`${proxy.url}/task/${first}`, { method: 'DELETE' });
    expect(((await cancelled.json()) as DataBody<Task>).data.status).toBe('cancelled');
    await vi.waitFor(
      async () => expect((await proxy.getTask(next)).status).toBe('processing'),
      WELL_WITHIN_THE_CONNECT_TIMEOUT,
    );
    // Started while the cancelled call's connect is still pending, not after undici gave it up.
    expect(target.connections[0]).toEqual({ closed: false });
  });

  it('stops on SIGTERM after the grace, not the connect timeout (--shutdown-grace 1)', async () => {
    const target = await stalledTlsTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', 'memory', '--shutdown-grace', '1'],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    const submitted = await fetch(`${proxy.url}/api/x`, { method: 'POST' });
    expect(submitted.status).toBe(202);
    await vi.waitFor(() => expect(target.connections).toHaveLength(1));
    const stopped = proxy.stop('SIGTERM');
    await vi.waitFor(
      () => expect(proxy.child.exitCode).not.toBeNull(),
      WELL_WITHIN_THE_CONNECT_TIMEOUT,
    );
    expect(await stopped).toEqual({ code: 0, signal: null });
    expect(proxy.output()).toContain(
      'stopped: 0 calls ended within the grace, 1 call cut off (1 ended interrupted)',
    );
  });
});
