import { connect } from 'node:net';
import { Redis } from 'ioredis';
import type { DataBody, HealthBody, SubmitBody } from 'proxy-client/wire';
import { type ProxyProcess, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  pathOf,
  redisForTest,
  runsPerTask,
  startInstances,
  statsOf,
  submitAll,
  targetForTest,
  taskOf,
} from './instances.js';

const CAP = 4;
const DELAY_MS = 40;
const SUBMITTERS = 4;

/** A client of the test's Redis to misbehave it with (pause, flush), closed after the test. */
function adminOf(redis: { url: string }): Redis {
  const admin = new Redis(redis.url);
  onTestFinished(() => {
    admin.disconnect();
  });
  return admin;
}

/**
 * When (wall clock, ms) Redis got the next BZPOPMIN, as MONITOR shows it: a worker waiting for a
 * job. On a socket of its own: ioredis's monitor() can take a command's line for its own reply.
 */
function nextBlockingWait(redis: { port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(redis.port, '127.0.0.1', () => socket.write('MONITOR\r\n'));
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString();
      // +1700000000.123456 [0 127.0.0.1:40000] "bzpopmin" "e2e-1-1:tasks:marker" "5"
      const seen = /^\+(\d+\.\d+) \[[^\]]*\] "bzpopmin"/im.exec(text);
      if (!seen) return;
      socket.destroy();
      resolve(Number(seen[1]) * 1_000);
    });
  });
}

/** Waits until the wall clock reads `at` (ms): a step in a sequence, not an assertion. */
function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

/** One instance, and what its /health says of the store. */
async function oneInstanceWithHealth(extra: string[] = []) {
  const redis = await redisForTest();
  const target = await targetForTest();
  const [proxy] = (await startInstances(1, redis, target, { cap: CAP, extra })) as [ProxyProcess];
  const health = async () =>
    ((await (await fetch(`${proxy.url}/health`)).json()) as HealthBody).store;
  return { redis, proxy, health };
}

/** What a response's body has brought so far, read on until the test ends. */
function textOf(response: Response): { text(): string } {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  onTestFinished(() => reader.cancel());
  const decoder = new TextDecoder();
  let text = '';
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { text: () => text };
}

/**
 * Submits a task that answers at once (again while Redis is refused: a 503 created nothing),
 * and waits until each stream has its end.
 */
async function submitAndSee(proxy: ProxyProcess, streams: { text(): string }[]): Promise<string> {
  let id = '';
  await waitFor(
    async () => {
      const submitted = await fetch(`${proxy.url}${pathOf(1, 0)}`, { method: 'POST' });
      if (submitted.status === 202) id = ((await submitted.json()) as SubmitBody).task_id;
      return id !== '';
    },
    { timeoutMs: 10_000, what: 'a submission to be taken' },
  );
  await waitFor(
    () =>
      streams.every((stream) =>
        stream.text().includes(`event: finished\ndata: {"task_id":"${id}"`),
      ),
    { timeoutMs: 10_000, what: `task ${id} to finish on every stream` },
  );
  return id;
}

interface Refusal {
  n: number;
  status: number;
  error: string;
  retryAfter: string | null;
  message: string;
  ms: number;
}

describe('Redis stopped mid-run and started again, with AOF', () => {
  it('answers 503 store_unavailable meanwhile, keeps every task it accepted, carries on by itself', {
    timeout: 120_000,
  }, async () => {
    const redis = await redisForTest({ appendonly: true });
    const target = await targetForTest();
    const instances = await startInstances(2, redis, target, { cap: CAP });

    const accepted = new Map<number, string>();
    const refused: Refusal[] = [];
    let next = 0;
    let done = false;
    let restarted: () => void = () => {};
    const redisBack = new Promise<void>((resolve) => {
      restarted = resolve;
    });
    // Each submitter sends a task and holds a short waiting read on it on the other instance;
    // one that is refused waits for Redis to be back before it sends the next.
    const submitter = async () => {
      while (!done) {
        const n = next++;
        const proxy = instances[n % instances.length] as ProxyProcess;
        const other = instances[(n + 1) % instances.length] as ProxyProcess;
        const started = Date.now();
        const response = await fetch(proxy.url + pathOf(n, DELAY_MS), { method: 'POST' });
        const body = (await response.json()) as SubmitBody & { error?: string; message: string };
        if (response.status === 202) {
          accepted.set(n, body.task_id);
          await fetch(`${other.url}/task/${body.task_id}?wait=2`);
          continue;
        }
        refused.push({
          n,
          status: response.status,
          error: body.error ?? '',
          retryAfter: response.headers.get('retry-after'),
          message: body.message,
          ms: Date.now() - started,
        });
        await redisBack;
      }
    };
    const submitters = Array.from({ length: SUBMITTERS }, submitter);

    await waitFor(() => accepted.size >= 40, { timeoutMs: 30_000, what: 'forty tasks accepted' });
    await redis.stop('SIGKILL');
    const stoppedAt = Date.now();
    await waitFor(() => refused.length >= SUBMITTERS && Date.now() - stoppedAt >= 3_000, {
      timeoutMs: 30_000,
      what: 'every submitter to be refused, and Redis to be away three seconds',
    });
    for (const proxy of instances) {
      const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
      expect(health).toMatchObject({
        status: 'degraded',
        store: { kind: 'redis', available: false },
      });
      expect(health.store.message).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1/);
      expect((await fetch(`${proxy.url}/stats`)).status).toBe(503);
    }
    const acceptedBefore = accepted.size;
    await redis.restart();
    restarted();
    await waitFor(() => accepted.size >= acceptedBefore + 40, {
      timeoutMs: 30_000,
      what: 'forty more tasks accepted after Redis came back',
    });
    done = true;
    await Promise.all(submitters);

    for (const refusal of refused) {
      expect(refusal).toMatchObject({ status: 503, error: 'store_unavailable', retryAfter: '5' });
      expect(refusal.ms).toBeLessThan(5_000);
      expect(refusal.message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/0 cannot be reached/);
    }
    for (const proxy of instances) {
      await waitFor(
        async () => {
          const { tasks } = await statsOf(proxy);
          return tasks.pending === 0 && tasks.processing === 0;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: 'every task to finish' },
      );
      const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
      expect(health.store).toMatchObject({ available: true, message: null });
    }
    // Every task that got a 202 is there, on both instances, run once; a submission refused
    // with 503 may have been written all the same (Redis died before it could answer), but
    // never ran twice.
    const runs = runsPerTask(target);
    for (const proxy of instances) {
      for (const [n, id] of accepted) {
        const task = await taskOf(proxy, id);
        expect(task).toMatchObject({ status: 'completed', result: { body: `task-${n}` } });
        expect(runs.get(n)).toBe(1);
      }
    }
    const refusedNumbers = new Set(refused.map((refusal) => refusal.n));
    for (const [n, count] of runs) {
      if (accepted.has(n)) continue;
      expect(refusedNumbers.has(n)).toBe(true);
      expect(count).toBe(1);
    }
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(CAP);
    // Redis pass: each refusal also logged the failure to take its task back, at error, though
    // the refusal had said Redis was away and Redis's return took the task back.
    for (const proxy of instances) expect(proxy.output()).not.toContain('taking back task');
  });

  it('is ok again by itself once a Redis that stopped answering answers, with only health checks coming', {
    timeout: 60_000,
  }, async () => {
    const { redis, proxy, health } = await oneInstanceWithHealth();
    // Redis holds every command for 4 s and keeps the connections: a hung server, or a network
    // that drops packets, rather than one that refuses them (no reconnect to clear anything).
    await adminOf(redis).call('CLIENT', 'PAUSE', '4000', 'ALL');
    const refused = await fetch(`${proxy.url}${pathOf(1, 0)}`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(await health()).toMatchObject({ available: false });
    // A load balancer's checks are the only requests now; they must see Redis back.
    await waitFor(async () => (await health()).available, {
      timeoutMs: 15_000,
      intervalMs: 250,
      what: '/health to say the store works again',
    });
    expect(await health()).toEqual({ kind: 'redis', available: true, message: null });
  });

  // Redis pass: the refused submission then waited for its taking back, which against a hung
  // Redis took a timeout of its own: 8.5 to 11.5 s to the 503, past a 10 s gateway's patience.
  it('refuses a submission while Redis hangs, before Redis answers again', {
    timeout: 60_000,
  }, async () => {
    const { redis, proxy } = await oneInstanceWithHealth();
    const admin = adminOf(redis);
    // Its commands time out after 3 s; a second timeout, the taking back's, outlasts the pause.
    await admin.call('CLIENT', 'PAUSE', '5000', 'ALL');
    const refused = await fetch(`${proxy.url}${pathOf(1, 0)}`, { method: 'POST' });
    expect(refused.status).toBe(503);
    // Still paused: a command of this connection waits for the pause's end.
    const pausedFor = performance.now();
    await admin.call('PING');
    expect(performance.now() - pausedFor).toBeGreaterThan(500);
  });

  // Redis pass: each command waited for the batch already stuck on Redis before its own timeout
  // began (ioredis's auto-pipelining), so a read took 3 to 6 s, and past a 5.5 s pause it
  // waited for Redis and answered 200.
  it('answers each read while Redis hangs in one command timeout, not behind another', {
    timeout: 60_000,
  }, async () => {
    const { redis, proxy } = await oneInstanceWithHealth();
    const submitted = await fetch(`${proxy.url}${pathOf(1, 0)}`, { method: 'POST' });
    const { task_id: id } = (await submitted.json()) as SubmitBody;
    await adminOf(redis).call('CLIENT', 'PAUSE', '5500', 'ALL');
    const readAfter = async (ms: number, path: string) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      const response = await fetch(proxy.url + path);
      return { path, status: response.status, body: await response.text() };
    };
    // Each within a second of the pause's start, so that one timeout later Redis is still
    // paused, with more than a second to spare on a loaded machine.
    const reads = await Promise.all([
      readAfter(200, `/task/${id}`),
      readAfter(400, '/stats'),
      readAfter(600, `/task/${id}`),
      readAfter(800, '/metrics'),
    ]);
    expect(reads.map(({ path, status }) => ({ path, status }))).toEqual([
      { path: `/task/${id}`, status: 503 },
      { path: '/stats', status: 503 },
      { path: `/task/${id}`, status: 503 },
      { path: '/metrics', status: 200 },
    ]);
    expect(reads[3]?.body).toMatch(/^proxy_store_up\{[^}]*\} 0$/m);
  });

  // Redis pass: closing BullMQ's worker waited on a connection that still read 'ready', until
  // the give-up timer exited 1 at the grace plus 10 s, without the stop's summary.
  it('stops on SIGTERM while Redis hangs, exit 0', { timeout: 60_000 }, async () => {
    const { redis, proxy, health } = await oneInstanceWithHealth(['--shutdown-grace', '1']);
    await adminOf(redis).call('CLIENT', 'PAUSE', '40000', 'ALL');
    await waitFor(async () => !(await health()).available, {
      timeoutMs: 12_000,
      intervalMs: 250,
      what: '/health to say Redis does not answer',
    });
    expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(proxy.output()).toContain('proxy-server: stopped: no call was in flight\n');
    expect(proxy.output()).not.toContain('did not finish in time');
  });

  // Redis pass: a SIGTERM in the first seconds of a hang, before any command had timed out, found
  // the connections 'ready' and no failure known, and closed BullMQ's worker gracefully: its close
  // waited on the worker's connection (for the job it asked for as its BZPOPMIN ran out) or, with
  // Redis stopped, on its blocking connection (connected again after that wait had no answer),
  // until the give-up timer exited 1 at the grace plus 10 s, without the stop's summary.
  for (const hang of ['CLIENT PAUSE', 'SIGSTOP'] as const) {
    it(`stops on SIGTERM in the first seconds of a hang (${hang}), before any command timed out, exit 0`, {
      timeout: 60_000,
    }, async () => {
      const { redis, proxy } = await oneInstanceWithHealth(['--shutdown-grace', '1']);
      const admin = adminOf(redis);
      const pid = Number(/^process_id:(\d+)/m.exec(await admin.info('server'))?.[1]);
      // The idle worker waits for a job with a BZPOPMIN of 5 s (given 1 s more without an
      // answer), then asks for one. The hang begins before that and the stop comes after it,
      // 2.5 s into the hang: before the 3 s in which any command sent since would time out.
      const blockedAt = await nextBlockingWait(redis);
      await sleepUntil(blockedAt + 4_000);
      if (hang === 'SIGSTOP') {
        process.kill(pid, 'SIGSTOP');
        onTestFinished(() => {
          process.kill(pid, 'SIGCONT');
        });
      } else {
        await admin.call('CLIENT', 'PAUSE', '30000', 'ALL');
      }
      await sleepUntil(blockedAt + 6_500);
      const stopping = performance.now();
      expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(performance.now() - stopping).toBeLessThan(8_000);
      expect(proxy.output()).toContain('proxy-server: stopped: no call was in flight\n');
      expect(proxy.output()).not.toContain('did not finish in time');
    });
  }

  it('says degraded when Redis stops answering, on an instance that gets nothing but health checks', {
    timeout: 60_000,
  }, async () => {
    const { redis, health } = await oneInstanceWithHealth();
    expect(await health()).toMatchObject({ available: true });
    // Hung, connections kept: no socket error to go by, and no request to fail.
    await adminOf(redis).call('CLIENT', 'PAUSE', '15000', 'ALL');
    const found = await waitFor(
      async () => {
        const store = await health();
        return store.available ? null : store;
      },
      { timeoutMs: 12_000, intervalMs: 250, what: '/health to say Redis does not answer' },
    );
    expect(found.message).toContain('did not answer within');
  });

  it('stops on SIGTERM while Redis is away, exit 0', async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = await startInstances(1, redis, target, {
      cap: CAP,
      extra: ['--shutdown-grace', '2'],
    });
    await redis.stop();
    await waitFor(
      async () =>
        ((await (await fetch(`${proxy?.url}/health`)).json()) as HealthBody).store.available ===
        false,
      { timeoutMs: 10_000, what: 'the proxy to see Redis gone' },
    );
    // Closing waited for Redis to take BullMQ's QUIT until the give-up timer exited 1.
    expect(await proxy?.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('stops on SIGTERM with an outcome Redis never took: names the task, exit 1', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = await startInstances(1, redis, target, {
      cap: CAP,
      extra: ['--shutdown-grace', '1'],
    });
    const submitted = await fetch(`${proxy?.url}${pathOf(1, 1_500)}`);
    const { task_id: id } = ((await submitted.json()) as DataBody<SubmitBody>).data;
    await waitFor(() => target.requests().length === 1, { what: 'the call to start' });
    await redis.stop();
    await waitFor(() => target.stats().inFlight === 0, {
      timeoutMs: 10_000,
      what: 'the call to end',
    });
    const stopped = await proxy?.stop('SIGTERM');
    expect(proxy?.output()).toContain(
      `the outcome of 1 task was not confirmed saved before the stop: unless Redis had it, it is lost and the task is recovered as a dead instance's: ${id}`,
    );
    expect(stopped).toEqual({ code: 1, signal: null });
  });

  // Operator pass: with --requeue-interrupted, Redis killed under a call in flight, the stop
  // said `stopped: no call was in flight` and exited 0, naming no task.
  it('stops on SIGTERM with a requeue Redis never took: names the task, exit 1', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = await startInstances(1, redis, target, {
      cap: CAP,
      extra: ['--shutdown-grace', '1', '--requeue-interrupted'],
    });
    const submitted = await fetch(`${proxy?.url}${pathOf(1, 30_000)}`, { method: 'POST' });
    const { task_id: id } = (await submitted.json()) as SubmitBody;
    await waitFor(() => target.requests().length === 1, { what: 'the call to start' });
    await redis.stop();
    const stopped = await proxy?.stop('SIGTERM');
    expect(proxy?.output()).toContain(
      `the outcome of 1 task was not confirmed saved before the stop: unless Redis had it, it is lost and the task is recovered as a dead instance's: ${id}`,
    );
    expect(proxy?.output()).toContain('stopped: the outcome of 1 call not saved');
    expect(stopped).toEqual({ code: 1, signal: null });
  });
});

describe('Redis restarted without persistence mid-run', () => {
  it('says in the log that its tasks are gone, and carries on with new ones', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = (await startInstances(1, redis, target, { cap: CAP })) as [ProxyProcess];
    const submitted = await fetch(`${proxy.url}${pathOf(1, 2_000)}`, { method: 'POST' });
    const { task_id: id } = (await submitted.json()) as SubmitBody;
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    // No append-only file: Redis comes back empty, the task and its job with the rest.
    await redis.stop('SIGKILL');
    await redis.restart();
    await waitFor(() => target.stats().inFlight === 0, {
      timeoutMs: 10_000,
      what: 'the call to end',
    });
    await waitFor(() => proxy.output().includes(`task ${id} was gone from Redis`), {
      timeoutMs: 10_000,
      what: 'a line on the outcome that has no task to go to',
    });
    expect(proxy.output()).toContain('came back without the keys of --redis-prefix');
    expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(404);
    const again = await fetch(`${proxy.url}${pathOf(2, 0)}`, { method: 'POST' });
    expect(again.status).toBe(202);
    const { task_id: next } = (await again.json()) as SubmitBody;
    await waitFor(async () => (await taskOf(proxy, next)).status === 'completed', {
      timeoutMs: 10_000,
      what: 'a task submitted after the restart to run',
    });
  });

  // The Redis pass: a task's event stream sent heartbeats for good once Redis came back without
  // the task, and the SDK's watchTask hung on it; the stream now ends, and a reconnect gets 404.
  it('ends the event stream of a task it lost', { timeout: 60_000 }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = (await startInstances(1, redis, target, { cap: CAP })) as [ProxyProcess];
    const submitted = await fetch(`${proxy.url}${pathOf(1, 20_000)}`, { method: 'POST' });
    const { task_id: id } = (await submitted.json()) as SubmitBody;
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    const stream = await fetch(`${proxy.url}/task/${id}/events`);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const ended = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return true;
        text += decoder.decode(value);
      }
    })();
    await waitFor(() => text.includes('"status":"processing"'), { what: 'the task as it is' });
    await redis.stop('SIGKILL');
    await redis.restart();
    const timeout = new Promise((resolve) => setTimeout(() => resolve(false), 15_000));
    expect(await Promise.race([ended, timeout])).toBe(true);
    expect((await fetch(`${proxy.url}/task/${id}/events`)).status).toBe(404);
  });

  // The Redis pass: /events went on with the live events once Redis came back empty, and a
  // dashboard (proxy-cli --watch) kept showing the tasks it had lost.
  it('tells every /events stream to read the tasks afresh when Redis lost its events', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = (await startInstances(1, redis, target, { cap: CAP })) as [ProxyProcess];
    const live = textOf(await fetch(`${proxy.url}/events`));
    const first = await submitAndSee(proxy, [live]);
    const lastId = [...live.text().matchAll(/^id: (.+)$/gm)].at(-1)?.[1] as string;
    const resumed = textOf(
      await fetch(`${proxy.url}/events`, { headers: { 'Last-Event-ID': lastId } }),
    );
    // Connections dropped, the data kept: the feed reads on from where it was, nothing to reset.
    await adminOf(redis).call('CLIENT', 'KILL', 'TYPE', 'normal');
    await submitAndSee(proxy, [live, resumed]);
    expect(live.text()).not.toContain('event: reset');
    expect(resumed.text()).not.toContain('event: reset');
    await redis.stop('SIGKILL');
    await redis.restart();
    await waitFor(
      () => live.text().includes('event: reset') && resumed.text().includes('event: reset'),
      { timeoutMs: 15_000, what: 'both streams to be told to read afresh' },
    );
    const next = await submitAndSee(proxy, [live, resumed]);
    expect(live.text().indexOf('event: reset')).toBeLessThan(live.text().indexOf(next));
    expect(live.text()).toContain(first);
    // A client back later after an event from before the loss is told so too (review).
    const late = textOf(
      await fetch(`${proxy.url}/events`, { headers: { 'Last-Event-ID': lastId } }),
    );
    await waitFor(() => late.text().length > 0, { what: 'the late stream to begin' });
    expect(late.text()).toMatch(/^event: reset\n/);
  });

  // Review: a call whose status --retry-on names goes to the retry script, which answered a
  // vanished task as it answers a cancelled one: the task was dropped with no word in the log.
  it('says so too of a task whose call ends with a status to be retried', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const [proxy] = (await startInstances(1, redis, target, {
      cap: CAP,
      extra: ['--retry-on', '503', '--max-attempts', '3'],
    })) as [ProxyProcess];
    const submitted = await fetch(`${proxy.url}/api/fail?status=503&delay_ms=8000`, {
      method: 'POST',
    });
    const { task_id: id } = (await submitted.json()) as SubmitBody;
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    await redis.stop('SIGKILL');
    await redis.restart();
    // Redis answers again before the call ends, so its end goes to the retry script (with Redis
    // away it would be kept and saved later, by the finish script, which says the same).
    await waitFor(
      async () =>
        ((await (await fetch(`${proxy.url}/health`)).json()) as HealthBody).status === 'ok',
      { timeoutMs: 5_000, what: 'the proxy to find Redis again' },
    );
    expect(target.stats().inFlight).toBe(1);
    await waitFor(() => target.stats().inFlight === 0, {
      timeoutMs: 10_000,
      what: 'the call to end',
    });
    await waitFor(() => proxy.output().includes(`task ${id} was gone from Redis`), {
      timeoutMs: 10_000,
      what: 'a line on the call to be retried that has no task to go to',
    });
    expect(proxy.output()).toContain(
      `task ${id} was gone from Redis when its call ended (failed, status 503)`,
    );
    expect((await fetch(`${proxy.url}/task/${id}`)).status).toBe(404);
  });
});

describe('Redis flushed under running instances', () => {
  it('gets its cap on calls back without a reconnect, and says its tasks are gone', {
    timeout: 60_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const instances = await startInstances(2, redis, target, { cap: 2 });
    // FLUSHALL keeps the connections: only a look at Redis finds the cap gone.
    await adminOf(redis).flushall();
    await waitFor(
      () => instances.some((proxy) => proxy.output().includes('came back without the keys')),
      { timeoutMs: 15_000, what: 'an instance to find the cap gone' },
    );
    await submitAll(instances, [0, 12], 500);
    await waitFor(
      async () => (await statsOf(instances[0] as ProxyProcess)).tasks.completed === 12,
      {
        timeoutMs: 30_000,
        what: 'the tasks to run',
      },
    );
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(2);
  });
});
