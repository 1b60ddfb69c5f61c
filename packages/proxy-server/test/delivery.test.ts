import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, ErrorBody, Stats, Task } from 'proxy-client/wire';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import { Webhook } from 'standardwebhooks';
import { startRedis, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { shutdownServer } from '../src/index.js';
import { DELIVERIES_PER_RECEIVER } from '../src/proxy/callbacks.js';
import { FakeClock } from './engine/harness.js';
import { startProxy } from './helper.js';

const STORES = ['memory', 'sqlite'] as const;
/** Where fair sharing is tested: every store, Redis too. */
const FAIR_STORES = [...STORES, 'redis'] as const;
const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
/** Callbacks on, to `origins`, signed with SECRET. */
const callbacksTo = (origins: string) => ['--callback-allow', origins, '--webhook-secret', SECRET];

async function setUp(store: (typeof FAIR_STORES)[number], flags: string[], deps = {}) {
  const target = await startSlowTarget({ recordRequests: true });
  onTestFinished(() => target.close());
  let storeFlags = ['--store', 'memory'];
  if (store === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-delivery-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    storeFlags = ['--store', 'sqlite', '--data-dir', dir];
  }
  if (store === 'redis') {
    const redis = await startRedis();
    onTestFinished(() => redis.close());
    storeFlags = ['--store', redis.url];
  }
  const proxy = await startProxy(target.url, {
    listen: true,
    flags: [...storeFlags, ...flags],
    deps,
  });
  const submit = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(proxy.url + path, { method: 'POST', headers });
    const body = (await response.json()) as { task_id: string } & ErrorBody;
    return { status: response.status, body, headers: response.headers };
  };
  const stats = async () =>
    ((await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>).data;
  return { target, proxy, submit, stats, storeFlags };
}

/** A callback receiver on a free port: `answer` replies to (or ignores) each delivery. */
async function startReceiver(answer: (response: ServerResponse) => void) {
  let requests = 0;
  let closed = 0;
  const delivered: Array<{ id: string; type: string }> = [];
  const receiver = createServer((request, response) => {
    requests++;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { type } = JSON.parse(Buffer.concat(chunks).toString()) as { type: string };
      delivered.push({ id: String(request.headers['webhook-id']), type });
      answer(response);
    });
    response.on('close', () => {
      if (!response.writableFinished) closed++;
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    receiver.closeAllConnections();
    return new Promise((resolve) => receiver.close(() => resolve(undefined)));
  });
  return {
    origin: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    requests: () => requests,
    /** Each delivery's task id and `type`, as they came. */
    delivered: () => delivered,
    /** Deliveries whose connection closed before an answer. */
    closed: () => closed,
  };
}

/** When the target received each call whose URL contains `marker`, in ms after the first. */
function callTimes(target: SlowTarget, marker: string): number[] {
  const calls = target.requests().filter((request) => request.url.includes(marker));
  const first = calls[0]?.at ?? 0;
  return calls.map((request) => request.at - first);
}

describe('callbacks to one receiver', () => {
  it(`are under way ${DELIVERIES_PER_RECEIVER} at a time at most, the rest in turn`, async () => {
    let running = 0;
    let most = 0;
    // Answers held until every task has finished: the deliveries pile up whatever the pace of
    // the machine (with answers after a fixed 300 ms, a loaded one never had 16 at once).
    let held: Array<() => void> | null = [];
    const delivered = new Set<string>();
    const receiver = createServer((request, response) => {
      running++;
      most = Math.max(most, running);
      request.resume();
      request.on('end', () => {
        const answer = () => {
          running--;
          delivered.add(String(request.headers['webhook-id']));
          response.end();
        };
        if (held) held.push(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise((resolve) => receiver.close(() => resolve(undefined))));
    const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    // Held answers must not time out and free their slots meanwhile.
    const { proxy, submit } = await setUp('memory', callbacksTo(origin), {
      callbackTimeoutMs: 60_000,
    });
    const tasks = 3 * DELIVERIES_PER_RECEIVER;
    const ids = await Promise.all(
      Array.from({ length: tasks }, async (_, n) => {
        const { body } = await submit(`/api/text?text=t${n}`, {
          'x-proxy-callback-url': `${origin}/hook`,
        });
        return body.task_id;
      }),
    );
    for (const id of ids) await proxy.finished(id);
    await waitFor(() => held?.length === DELIVERIES_PER_RECEIVER, {
      what: `${DELIVERIES_PER_RECEIVER} deliveries held`,
    });
    const answers = held ?? [];
    held = null;
    for (const answer of answers) answer();
    await waitFor(() => delivered.size === tasks, { what: 'every delivery', timeoutMs: 20_000 });
    expect(most).toBe(DELIVERIES_PER_RECEIVER);
  });
});

describe('callbacks across a restart of the SQLite store', () => {
  it('delivers after the restart what a receiver that was down could not take before', async () => {
    let up = false;
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (up) received.push(String(request.headers['webhook-id']));
        response.statusCode = up ? 204 : 503;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise((resolve) => receiver.close(() => resolve(undefined))));
    const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const { target, onDisk } = await sqliteProxyParts();
    const flags = [...onDisk, ...callbacksTo(origin)];
    const first = await startProxy(target.url, {
      // The second delivery is due 2 s after the first: after the restart, not before it.
      listen: true,
      flags,
      deps: { callbackFirstRetryMs: 2_000 },
    });
    const id = await first.submit('/api/text?text=later', {
      headers: { 'x-proxy-callback-url': `${origin}/hook` },
    });
    await waitFor(async () => (await first.getTask(id)).callback?.deliveries.length === 1, {
      what: 'a first, refused delivery',
    });
    await first.app.close();

    up = true;
    const second = await startProxy(target.url, {
      listen: true,
      flags,
      deps: { callbackFirstRetryMs: 60_000 },
    });
    await waitFor(async () => (await second.getTask(id)).callback?.state === 'delivered', {
      what: 'the delivery to resume',
    });
    expect(received).toEqual([id]);
    expect(
      (await second.getTask(id)).callback?.deliveries.map((delivery) => delivery.status_code),
    ).toEqual([503, 204]);
  }, 90_000);
});

describe('callbacks still to deliver across a restart of the SQLite store', () => {
  it('are counted in /stats from the start that resumes them', async () => {
    const receiver = await startReceiver((response) => {
      response.statusCode = 503;
      response.end();
    });
    const flags = callbacksTo(receiver.origin);
    const { target, onDisk } = await callbackLeftDue(receiver.origin, flags);
    // The resumed delivery waits on this clock: the count is the store's, not a delivery's.
    const second = await startProxy(target.url, {
      listen: true,
      flags: [...onDisk, ...flags],
      deps: { clock: new FakeClock(Date.now()) },
    });
    const stats = (await (await fetch(`${second.url}/stats`)).json()) as DataBody<Stats>;
    expect(stats.data.delivery.callbacks).toEqual({ delivered: 0, failed: 0, pending: 1 });
    expect(receiver.requests()).toBe(1);
  }, 60_000);
});

// The crash pass: a restart delivered the callbacks of tasks still queued, as `task.pending`,
// marked them delivered, and sent nothing when those tasks finished.
describe('callbacks of tasks not finished at a restart of the SQLite store', () => {
  it('are delivered when the task finishes, once, and not at the start', async () => {
    const receiver = await startReceiver((response) => response.end());
    const { origin } = receiver;
    const { target, onDisk } = await sqliteProxyParts();
    const flags = [...onDisk, ...callbacksTo(origin)];
    // One call at a time, held by a long one: the task with a callback waits in the queue.
    const first = await startProxy(target.url, {
      listen: true,
      flags: [...flags, '--num-workers', '1', '--shutdown-grace', '0.1'],
    });
    const long = await first.submit('/api/long?seconds=600');
    await waitFor(async () => (await first.getTask(long)).status === 'processing');
    const id = await first.submit('/api/text?text=queued', {
      headers: { 'x-proxy-callback-url': `${origin}/hook` },
    });
    await first.app.close();

    const second = await startProxy(target.url, { listen: true, flags });
    const task = await second.finished(id);
    await waitFor(async () => (await second.getTask(id)).callback?.state === 'delivered', {
      what: 'the delivery of the finished task',
    });
    expect(task.status).toBe('completed');
    expect(receiver.delivered()).toEqual([{ id, type: 'task.completed' }]);
  }, 60_000);
});

/** A target, and the flags of a SQLite data dir of its own, both gone after the test. */
async function sqliteProxyParts() {
  const target = await startSlowTarget();
  onTestFinished(() => target.close());
  const dir = await mkdtemp(join(tmpdir(), 'proxy-callbacks-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return { target, onDisk: ['--store', 'sqlite', '--data-dir', dir] };
}

/**
 * A first proxy on a SQLite data dir whose task's callback to `receiverOrigin` (which refuses it)
 * was tried once and is due again; the proxy is then closed, so a second one on `onDisk` picks
 * the callback up.
 */
async function callbackLeftDue(receiverOrigin: string, flags: string[]) {
  const { target, onDisk } = await sqliteProxyParts();
  const first = await startProxy(target.url, {
    listen: true,
    flags: [...onDisk, ...flags],
    deps: { callbackFirstRetryMs: 1_000 },
  });
  const id = await first.submit('/api/text?text=x', {
    headers: { 'x-proxy-callback-url': `${receiverOrigin}/hook` },
  });
  await waitFor(async () => (await first.getTask(id)).callback?.deliveries.length === 1, {
    what: 'a first, refused delivery',
  });
  await first.app.close();
  return { target, onDisk, id };
}

// Review: a delivery due after a restart, and a task run again, went to an origin that the new
// --callback-allow no longer listed.
describe('callbacks after a restart with a narrower --callback-allow', () => {
  it('makes no delivery to an origin no longer listed, and runs no task again with it', async () => {
    const receiver = await startReceiver((response) => {
      response.statusCode = 503;
      response.end();
    });
    const other = await startReceiver((response) => response.end());
    const { target, onDisk, id } = await callbackLeftDue(
      receiver.origin,
      callbacksTo(`${receiver.origin},${other.origin}`),
    );

    const second = await startProxy(target.url, {
      listen: true,
      flags: [...onDisk, ...callbacksTo(other.origin)],
    });
    const callback = await waitFor(async () => {
      const read = (await second.getTask(id)).callback;
      return read?.state === 'failed' ? read : null;
    });
    expect(callback.deliveries[1]).toMatchObject({
      ok: false,
      status_code: null,
      error: 'its origin is not one --callback-allow lists any more',
    });
    expect(receiver.requests()).toBe(1);
    const retried = await fetch(`${second.url}/task/${id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(400);
    expect(await retried.json()).toMatchObject({ error: 'callback_not_allowed' });
    expect((await second.getTask(id)).retried_as).toBeNull();
  }, 60_000);
});

describe('callbacks after a restart with a lower --callback-max-attempts', () => {
  it('makes no delivery past the new limit: the callback ends failed with those it had', async () => {
    const receiver = await startReceiver((response) => {
      response.statusCode = 503;
      response.end();
    });
    const flags = callbacksTo(receiver.origin);
    const { target, onDisk, id } = await callbackLeftDue(receiver.origin, flags);

    const second = await startProxy(target.url, {
      listen: true,
      flags: [...onDisk, ...flags, '--callback-max-attempts', '1'],
    });
    const callback = await waitFor(async () => {
      const read = (await second.getTask(id)).callback;
      return read?.state === 'failed' ? read : null;
    });
    expect(callback.deliveries).toHaveLength(1);
    expect(callback.next_at).toBeNull();
    expect(receiver.requests()).toBe(1);
    const stats = (await (await fetch(`${second.url}/stats`)).json()) as DataBody<Stats>;
    expect(stats.data.delivery.callbacks).toEqual({ delivered: 0, failed: 1, pending: 0 });
  }, 60_000);
});

describe.each(STORES)('delivery policy on the %s store', (store) => {
  it('retries a flaky target with backoff, honouring its Retry-After, and shows every attempt', async () => {
    const { target, proxy, submit, stats } = await setUp(store, [
      '--retry-on',
      '503,reset',
      '--max-attempts',
      '4',
      '--retry-min-delay',
      '0.2',
      '--retry-max-delay',
      '0.4',
    ]);
    const { body } = await submit('/api/flaky?key=k1&plan=503@1,reset,200');
    await waitFor(
      async () =>
        (await proxy.getTask(body.task_id)).attempts === 1 &&
        (await proxy.getTask(body.task_id)).status === 'pending',
      {
        what: 'the first attempt to fail and the task to wait',
      },
    );
    const waiting = await proxy.getTask(body.task_id);
    expect(waiting).toMatchObject({ status: 'pending', queue_position: null });
    expect(waiting.next_attempt_at).not.toBeNull();
    const task = await proxy.finished(body.task_id, 15_000);
    expect(task).toMatchObject({
      status: 'completed',
      attempts: 3,
      max_attempts: 4,
      next_attempt_at: null,
    });
    expect(
      task.attempt_history.map((attempt) => [
        attempt.attempt,
        attempt.outcome,
        attempt.status_code,
        attempt.error_code,
      ]),
    ).toEqual([
      [1, 'failed', 503, 'upstream_status'],
      [2, 'failed', null, 'upstream_reset'],
      [3, 'completed', 200, null],
    ]);
    const [, second, third] = callTimes(target, 'key=k1');
    // Retry-After: 1 is honoured as it is; then a backoff of at most 0.4 s, at least 0.2 s.
    expect(second).toBeGreaterThanOrEqual(950);
    expect(second).toBeLessThan(2_000);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(180);
    expect((third ?? 0) - (second ?? 0)).toBeLessThan(1_500);
    expect((await stats()).delivery.retries).toBe(2);
  });

  it('says when a task waiting for a retry will start, and when to ask again', async () => {
    const { proxy, submit } = await setUp(store, ['--retry-on', '503']);
    const { body } = await submit('/api/flaky?key=k9&plan=503@20,200');
    await waitFor(async () => (await proxy.getTask(body.task_id)).next_attempt_at !== null, {
      what: 'the first attempt to fail and the retry to wait',
    });
    const askedAt = Date.now();
    const response = await fetch(`${proxy.url}/task/${body.task_id}`);
    const answeredAt = Date.now();
    const { data: waiting } = (await response.json()) as DataBody<Task>;
    expect(waiting).toMatchObject({ status: 'pending', queue_position: null });
    // It starts when its retry is due: the record and the Retry-After say so, the header in
    // whole seconds from whenever the proxy answered between the two readings of the clock.
    expect(waiting.estimated_start_at).toBe(waiting.next_attempt_at);
    const dueAt = Date.parse(waiting.next_attempt_at ?? '');
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((dueAt - answeredAt) / 1000));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((dueAt - askedAt) / 1000));
    await fetch(`${proxy.url}/task/${body.task_id}`, { method: 'DELETE' });
  });

  it('gives up after the last attempt, and never retries what --retry-on leaves out', async () => {
    const { proxy, submit } = await setUp(store, [
      '--retry-on',
      '503',
      '--max-attempts',
      '2',
      '--retry-min-delay',
      '0.05',
      '--retry-max-delay',
      '0.05',
    ]);
    const always = await submit('/api/flaky?key=k2&plan=503');
    const other = await submit('/api/fail?status=500');
    const capped = await submit('/api/flaky?key=k3&plan=503', { 'x-proxy-max-attempts': '1' });
    expect(await proxy.finished(always.body.task_id)).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
    expect(await proxy.finished(other.body.task_id)).toMatchObject({
      status: 'failed',
      attempts: 1,
    });
    expect(await proxy.finished(capped.body.task_id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      max_attempts: 1,
    });
  });

  it('expires a task not started within --max-queue-time or its own X-Proxy-Max-Queue-Time', async () => {
    const { target, proxy, submit } = await setUp(store, [
      '--max-concurrent',
      '1',
      '--num-workers',
      '1',
      '--max-queue-time',
      '30',
    ]);
    const blocker = await submit('/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });
    const late = await submit('/api/text?text=late', { 'x-proxy-max-queue-time': '0.3' });
    const patient = await submit('/api/text?text=patient');
    expect((await proxy.getTask(late.body.task_id)).deadline_at).not.toBeNull();
    const expired = await proxy.finished(late.body.task_id);
    expect(expired).toMatchObject({
      status: 'expired',
      started_at: null,
      error: { code: 'expired' },
    });
    const noResult = await fetch(`${proxy.url}/task/${late.body.task_id}/result`);
    expect(await noResult.json()).toMatchObject({
      error: 'no_result',
      message: `Task ${late.body.task_id} ended expired without an answer from the target`,
    });
    expect((await proxy.getTask(patient.body.task_id)).status).toBe('pending');
    await fetch(`${proxy.url}/task/${blocker.body.task_id}`, { method: 'DELETE' });
    expect((await proxy.finished(patient.body.task_id)).status).toBe('completed');
    expect(target.stats().byPath['/api/text']).toBe(1);
    const bad = await submit('/api/text', { 'x-proxy-max-queue-time': 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('X-Proxy-Max-Queue-Time');
  });

  it('serves high before normal before low, and sheds the lowest when the queue is full', async () => {
    const { target, proxy, submit, stats } = await setUp(store, [
      '--max-concurrent',
      '1',
      '--num-workers',
      '1',
      '--max-queue-size',
      '3',
    ]);
    const blocker = await submit('/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });
    const low = await submit('/api/text?text=low', { 'x-proxy-priority': 'low' });
    const normal = await submit('/api/text?text=normal');
    const lowToo = await submit('/api/text?text=low2', { 'x-proxy-priority': 'low' });
    const high = await submit('/api/text?text=high', { 'x-proxy-priority': 'HIGH' });
    expect(high.status).toBe(202);
    expect(await proxy.getTask(lowToo.body.task_id)).toMatchObject({
      status: 'failed',
      error: { code: 'shed' },
    });
    const refused = await submit('/api/text?text=low3', { 'x-proxy-priority': 'low' });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('queue_full');
    expect((await proxy.getTask(high.body.task_id)).queue_position).toBe(1);
    // No --fair-key: no tenants, as /stats says on every store.
    expect((await stats()).delivery.tenants).toEqual([]);
    await fetch(`${proxy.url}/task/${blocker.body.task_id}`, { method: 'DELETE' });
    for (const id of [high, normal, low].map((answer) => answer.body.task_id))
      await proxy.finished(id);
    const order = target
      .requests()
      .filter((request) => request.url.startsWith('/api/text'))
      .map((request) => request.url);
    expect(order).toEqual(['/api/text?text=high', '/api/text?text=normal', '/api/text?text=low']);
    expect((await stats()).delivery.shed).toBe(1);
    expect((await submit('/api/text', { 'x-proxy-priority': 'urgent' })).status).toBe(400);
  });

  it('starts no more calls a second than --max-rps, measured at the target', async () => {
    const { target, proxy, submit } = await setUp(store, [
      '--max-concurrent',
      '20',
      '--num-workers',
      '20',
      '--max-rps',
      '20',
      '--max-rps-burst',
      '1',
    ]);
    const ids = await Promise.all(
      Array.from({ length: 41 }, (_, n) => submit(`/api/text?text=r${n}`)),
    );
    for (const answer of ids) await proxy.finished(answer.body.task_id, 15_000);
    const times = callTimes(target, 'text=r');
    const rate = (times.length - 1) / ((times.at(-1) ?? 1) / 1000);
    expect(rate).toBeGreaterThan(18);
    expect(rate).toBeLessThan(22);
  });

  it('counts --max-rps in the expected start of a queued task and its Retry-After', async () => {
    const { proxy, submit } = await setUp(store, ['--max-rps', '0.1']);
    const first = await submit('/api/text?text=first');
    await proxy.finished(first.body.task_id);
    // The one token is spent: the next call may start 10 s after the first, one more 10 s later.
    await submit('/api/text?text=second');
    const third = await submit('/api/text?text=third');
    const response = await fetch(`${proxy.url}/task/${third.body.task_id}`);
    const { data: waiting } = (await response.json()) as DataBody<Task>;
    expect(waiting).toMatchObject({ status: 'pending', queue_position: 2 });
    const waitMs = Date.parse(waiting.estimated_start_at ?? '') - Date.now();
    expect(waitMs).toBeGreaterThan(15_000);
    expect(waitMs).toBeLessThanOrEqual(20_000);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(15);
  });

  it('POSTs the finished task to the callback, signed per Standard Webhooks, retrying until it is taken', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    let answers = [500, 200];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.statusCode = answers.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise((resolve) => receiver.close(() => resolve(undefined))));
    const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const { proxy, submit, stats } = await setUp(store, callbacksTo(origin), {
      callbackFirstRetryMs: 50,
    });
    const { body } = await submit('/api/text?text=hooked', {
      'x-proxy-callback-url': `${origin}/hooks/done?x=1`,
    });
    await waitFor(() => received.length === 2, { what: 'two deliveries' });
    const webhook = new Webhook(SECRET);
    for (const delivery of received) {
      const verified = webhook.verify(
        delivery.body,
        delivery.headers as Record<string, string>,
      ) as {
        type: string;
        data: Task;
      };
      expect(verified).toMatchObject({
        type: 'task.completed',
        data: { task_id: body.task_id, result: { body: 'hooked' } },
      });
      expect(delivery.headers['webhook-id']).toBe(body.task_id);
    }
    const tampered = { ...received[1], body: received[1]?.body.replace('hooked', 'forged') ?? '' };
    expect(() =>
      webhook.verify(tampered.body, tampered.headers as Record<string, string>),
    ).toThrow();
    await waitFor(async () => (await proxy.getTask(body.task_id)).callback?.state === 'delivered', {
      what: 'the delivery to be recorded',
    });
    const task = await proxy.getTask(body.task_id);
    expect(
      task.callback?.deliveries.map((delivery) => [
        delivery.attempt,
        delivery.ok,
        delivery.status_code,
      ]),
    ).toEqual([
      [1, false, 500],
      [2, true, 200],
    ]);
    expect((await stats()).delivery.callbacks).toEqual({ delivered: 1, failed: 0, pending: 0 });
    answers = [];
  });

  // Hostile pass: a receiver that never answered was recorded once as "This operation was
  // aborted due to timeout" and once as "Headers Timeout Error", as one timeout or the other
  // fired first.
  it('records a receiver that never answers the same way on every delivery', async () => {
    const hanging = createServer((request) => request.resume());
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      hanging.closeAllConnections();
      return new Promise((resolve) => hanging.close(() => resolve(undefined)));
    });
    const origin = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const { proxy, submit } = await setUp(
      store,
      [...callbacksTo(origin), '--callback-max-attempts', '3'],
      { callbackFirstRetryMs: 10, callbackTimeoutMs: 200 },
    );
    const { body } = await submit('/api/text?text=unheard', {
      'x-proxy-callback-url': `${origin}/hooks`,
    });
    await waitFor(async () => (await proxy.getTask(body.task_id)).callback?.state === 'failed', {
      timeoutMs: 10_000,
      what: 'the callback to be given up',
    });
    const task = await proxy.getTask(body.task_id);
    expect(task.callback?.deliveries.map((delivery) => delivery.error)).toEqual(
      Array(3).fill('the receiver did not answer within 0.2 s'),
    );
  });

  it('cuts a task’s own call off at X-Proxy-Timeout, never longer than --upstream-timeout', async () => {
    const { proxy, submit } = await setUp(store, ['--upstream-timeout', '5']);
    const quick = await submit('/api/text?delay_ms=2000', { 'x-proxy-timeout': '0.2' });
    const capped = await submit('/api/text?delay_ms=500', { 'x-proxy-timeout': '3600' });
    expect(await proxy.finished(quick.body.task_id)).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_timeout' },
    });
    expect((await proxy.finished(capped.body.task_id)).status).toBe('completed');
    // Written as in ?wait=: a fraction without a leading digit, a point without a fraction.
    for (const accepted of ['.5', '5.']) {
      expect((await submit('/api/text', { 'x-proxy-timeout': accepted })).status).toBe(202);
    }
    for (const refused of ['-1', '0.0001', '.', '99999999999999999999']) {
      const answer = await submit('/api/text', { 'x-proxy-timeout': refused });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(
        `X-Proxy-Timeout must be a number of seconds from 0.001 to 31536000 (a year), got '${refused}'`,
      );
    }
  });

  it('waits out an X-Proxy-Timeout past the longest timer Node sets', async () => {
    // 30 days: a bare setTimeout fires such a timer after 1 ms, failing the call at once.
    const { proxy, submit } = await setUp(store, []);
    const answer = await submit('/api/text?delay_ms=300', {
      'x-proxy-timeout': String(30 * 24 * 3600),
    });
    expect(await proxy.finished(answer.body.task_id)).toMatchObject({
      status: 'completed',
      attempts: 1,
      error: null,
    });
  });

  it('dates the next delivery from the end of a slow failed one, not its start', async () => {
    const receiver = await startReceiver((response) => {
      setTimeout(() => {
        response.statusCode = 500;
        response.end();
      }, 400);
    });
    const { proxy, submit } = await setUp(store, callbacksTo(receiver.origin), {
      callbackFirstRetryMs: 60_000,
    });
    const { body } = await submit('/api/text?text=slow-hook', {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(
      async () => (await proxy.getTask(body.task_id)).callback?.deliveries.length === 1,
      { what: 'the first delivery to be recorded' },
    );
    const callback = (await proxy.getTask(body.task_id)).callback;
    const madeAt = Date.parse(callback?.deliveries[0]?.at ?? '');
    expect(Date.parse(callback?.next_at ?? '') - madeAt).toBeGreaterThanOrEqual(60_000 + 400);
  });

  it('delivers the callback of a task that finishes during the shutdown grace', async () => {
    const receiver = await startReceiver((response) => response.end());
    const { target, proxy, submit } = await setUp(store, callbacksTo(receiver.origin));
    await submit('/api/text?text=late&delay_ms=300', {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    await shutdownServer(proxy.app, 5_000);
    expect(receiver.requests()).toBe(1);
  });

  it('cuts a delivery under way off when the shutdown grace is over', async () => {
    // Answers after 3 s: a shutdown that waited for the delivery would see it answered.
    const receiver = await startReceiver((response) => {
      setTimeout(() => response.end(), 3_000);
    });
    const { proxy, submit } = await setUp(store, callbacksTo(receiver.origin));
    await submit('/api/text?text=hung-hook', {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(() => receiver.requests() === 1, { what: 'the delivery to reach the receiver' });
    await shutdownServer(proxy.app, 200);
    await waitFor(() => receiver.closed() === 1, { what: 'the delivery to be cut off' });
  });

  // Hostile pass: on the memory store the callback of a call cut off at the end of the grace
  // went with the process unsaid, /stats counting no failure.
  it('counts the callback of a call cut off at the end of the grace', async () => {
    const receiver = await startReceiver((response) => response.end());
    const { target, proxy, submit } = await setUp(store, callbacksTo(receiver.origin));
    await submit('/api/text?text=cut&delay_ms=5000', {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    await shutdownServer(proxy.app, 200);
    const { callbacks } = (await proxy.app.proxy.stats.read()).delivery;
    // Kept due on SQLite, for the next start; lost with the process on the memory store.
    expect(callbacks).toMatchObject({ delivered: 0, failed: store === 'memory' ? 1 : 0 });
  });

  // Hostile pass: a stop on the memory store did not say a callback waiting for a retry was at
  // stake, though it makes it within the grace or gives it up.
  it('names a callback waiting for a retry apart from the deliveries under way', async () => {
    const receiver = await startReceiver((response) => {
      response.statusCode = 503;
      response.end();
    });
    const { proxy, submit } = await setUp(store, callbacksTo(receiver.origin), {
      callbackFirstRetryMs: 60_000,
    });
    const { body } = await submit('/api/text?text=retry-hook', {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(
      async () => (await proxy.getTask(body.task_id)).callback?.deliveries.length === 1,
      { what: 'the first delivery to be recorded' },
    );
    const { deliveriesHere } = proxy.app.proxy;
    // A durable store keeps it due for the next start: nothing for the stop to make or lose. Due
    // in a minute, it is no wait for a stop with a shorter grace.
    expect({
      deliveriesHere,
      withinTheRetry: proxy.app.proxy.retriesWithin(60_000),
      withinLess: proxy.app.proxy.retriesWithin(30_000),
    }).toEqual({ deliveriesHere: 0, withinTheRetry: store === 'memory' ? 1 : 0, withinLess: 0 });
  });

  it('refuses a callback to an origin --callback-allow does not list, and any callback without it', async () => {
    const allowed = await setUp(store, callbacksTo('https://*.hooks.example'));
    const outside = await allowed.submit('/api/text', {
      'x-proxy-callback-url': 'http://169.254.169.254/latest/meta-data',
    });
    expect(outside.status).toBe(400);
    expect(outside.body).toMatchObject({ error: 'callback_not_allowed' });
    const apex = await allowed.submit('/api/text', {
      'x-proxy-callback-url': 'https://hooks.example/x',
    });
    expect(apex.body.error).toBe('callback_not_allowed');
    const sub = await allowed.submit('/api/text', {
      'x-proxy-callback-url': 'https://a.hooks.example/x',
    });
    expect(sub.status).toBe(202);
    const withCredentials = await allowed.submit('/api/text', {
      'x-proxy-callback-url': 'https://user:pw@a.hooks.example/x',
    });
    expect(withCredentials.body).toMatchObject({
      error: 'callback_not_allowed',
      message: expect.stringContaining('must not carry credentials'),
    });
    // It said "X-Proxy-Callback-Url null is not an origin": a URL of no web scheme has none.
    const script = await allowed.submit('/api/text', {
      'x-proxy-callback-url': 'javascript:alert(1)',
    });
    expect(script.body).toEqual({
      success: false,
      error: 'callback_not_allowed',
      message: 'X-Proxy-Callback-Url must be an http:// or https:// URL, got a javascript: one',
    });
    const off = await setUp(store, []);
    const refused = await off.submit('/api/text', {
      'x-proxy-callback-url': 'https://a.hooks.example/x',
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: 'callback_not_allowed',
      message: expect.stringContaining('--callback-allow'),
    });
    expect(allowed.target.stats().requests + off.target.stats().requests).toBeLessThanOrEqual(1);
  });
});

// An operator whose receiver was down saw nothing pile up in /stats: callbacks showed only once
// delivered or given up.
describe.each(FAIR_STORES)('callbacks still to deliver on the %s store', (store) => {
  /**
   * A proxy whose callback receiver answers `answer()` (500 unless told otherwise; null holds the
   * delivery unanswered), with one task submitted and its first delivery made: retries wait on
   * the clock, a minute apart.
   */
  async function afterAFirstDelivery(
    text: string,
    options: { answer?: () => number | null; args?: string[] } = {},
  ) {
    const { answer = () => 500, args = [] } = options;
    const receiver = await startReceiver((response) => {
      const statusCode = answer();
      if (statusCode === null) return;
      response.statusCode = statusCode;
      response.end();
    });
    const clock = new FakeClock(Date.now());
    const proxy = await setUp(store, [...callbacksTo(receiver.origin), ...args], {
      clock,
      callbackFirstRetryMs: 60_000,
    });
    const { body } = await proxy.submit(`/api/text?text=${text}`, {
      'x-proxy-callback-url': `${receiver.origin}/hook`,
    });
    await waitFor(
      async () => {
        // The first delivery is due at the finish: now, on the clock its timer waits on.
        clock.advance(0);
        return (await proxy.proxy.getTask(body.task_id)).callback?.deliveries.length === 1;
      },
      { what: 'a first, refused delivery' },
    );
    return { ...proxy, clock, receiver };
  }

  it('are counted in /stats while a refusing receiver has them retried, until delivered', async () => {
    let refusing = true;
    const { stats, clock, receiver } = await afterAFirstDelivery('pile', {
      answer: () => (refusing ? 500 : 204),
    });
    expect((await stats()).delivery.callbacks).toEqual({ delivered: 0, failed: 0, pending: 1 });
    refusing = false;
    clock.advance(60_000);
    await waitFor(async () => (await stats()).delivery.callbacks.delivered === 1, {
      what: 'the retry to be delivered',
    });
    expect((await stats()).delivery.callbacks).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(receiver.requests()).toBe(2);
  });

  it('stops counting a callback given up when its attempts run out', async () => {
    const { stats, clock } = await afterAFirstDelivery('given-up', {
      args: ['--callback-max-attempts', '2'],
    });
    expect((await stats()).delivery.callbacks.pending).toBe(1);
    clock.advance(60_000);
    await waitFor(async () => (await stats()).delivery.callbacks.failed === 1, {
      what: 'the callback to be given up',
    });
    expect((await stats()).delivery.callbacks).toEqual({ delivered: 0, failed: 1, pending: 0 });
  });

  it('stops counting the callback of a task a cleanup removes', async () => {
    const { proxy, stats } = await afterAFirstDelivery('removed');
    expect((await stats()).delivery.callbacks.pending).toBe(1);
    const cleanup = await fetch(`${proxy.url}/tasks/cleanup?max_age_hours=0`, {
      method: 'DELETE',
    });
    expect(cleanup.status).toBe(200);
    expect((await stats()).delivery.callbacks.pending).toBe(0);
  });

  // On the memory store, a callback a stop gave up stayed counted pending, in /stats and in
  // proxy_callbacks_pending, for as long as the stop went on.
  it('are given up by a stop on the memory store only, and leave pending when given up', async () => {
    let answer: number | null = 500;
    const { target, proxy, submit, stats, clock, receiver, storeFlags } = await afterAFirstDelivery(
      'stopped',
      { answer: () => answer },
    );
    // A second delivery held unanswered keeps the stop in its grace, where it is read.
    answer = null;
    await submit('/api/text?text=held', { 'x-proxy-callback-url': `${receiver.origin}/hook` });
    await waitFor(
      () => {
        clock.advance(0);
        return receiver.requests() === 2;
      },
      { what: 'a second delivery, held' },
    );
    const pendingGauge = async () => {
      const text = await (await fetch(`${proxy.url}/metrics`)).text();
      return /^proxy_callbacks_pending(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1];
    };
    expect((await stats()).delivery.callbacks).toEqual({ delivered: 0, failed: 0, pending: 2 });

    // The retry is due a minute on, after the grace: the memory store gives it up at once.
    const stopping = proxy.app.proxy.shutdown(5_000);
    const durable = store !== 'memory';
    await waitFor(async () => durable || (await stats()).delivery.callbacks.failed === 1, {
      what: 'the waiting callback to be given up',
    });
    const inTheGrace = durable
      ? { delivered: 0, failed: 0, pending: 2 }
      : { delivered: 0, failed: 1, pending: 1 };
    expect((await stats()).delivery.callbacks).toEqual(inTheGrace);
    expect(await pendingGauge()).toBe(String(inTheGrace.pending));

    clock.advance(5_000);
    await stopping;
    const afterTheStop = durable
      ? { delivered: 0, failed: 0, pending: 2 }
      : { delivered: 0, failed: 2, pending: 0 };
    expect((await proxy.app.proxy.stats.read()).delivery.callbacks).toEqual(afterTheStop);
    if (!durable) return;

    // The next start counts them from the store, and delivers them.
    await proxy.app.close();
    answer = 204;
    const restartClock = new FakeClock(Date.now());
    const restarted = await startProxy(target.url, {
      listen: true,
      flags: [...storeFlags, ...callbacksTo(receiver.origin)],
      deps: { clock: restartClock, callbackFirstRetryMs: 60_000 },
    });
    const statsAfter = async () =>
      ((await (await fetch(`${restarted.url}/stats`)).json()) as DataBody<Stats>).data.delivery
        .callbacks;
    expect((await statsAfter()).pending).toBe(2);
    await waitFor(
      async () => {
        restartClock.advance(60_000);
        return (await statsAfter()).delivered === 2;
      },
      { what: 'both callbacks delivered after the restart' },
    );
    expect(await statsAfter()).toEqual({ delivered: 2, failed: 0, pending: 0 });
  });
});

describe.each(FAIR_STORES)('fair sharing on the %s store', (store) => {
  it('shares the target fairly: B’s ten tasks do not wait behind A’s thousand', async () => {
    const { proxy, submit, stats } = await setUp(store, [
      '--max-concurrent',
      '4',
      '--num-workers',
      '4',
      '--max-queue-size',
      '2000',
      '--fair-key',
      'header:X-Proxy-Tenant',
    ]);
    const a = await Promise.all(
      Array.from({ length: 1_000 }, (_, n) =>
        submit(`/api/text?text=a${n}&delay_ms=20`, { 'x-proxy-tenant': 'A' }),
      ),
    );
    const bStarted = Date.now();
    const b = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        submit(`/api/text?text=b${n}&delay_ms=20`, { 'x-proxy-tenant': 'B' }),
      ),
    );
    const tenants = (await stats()).delivery.tenants.map((load) => load.tenant);
    expect(tenants).toContain('A');
    for (const answer of b) await proxy.finished(answer.body.task_id);
    const bDoneMs = Date.now() - bStarted;
    const aLeft = (await stats()).tasks.pending;
    // Behind A's burst, B would wait for 1,000 × 20 ms / 4 = 5 s; shared, about 20 slots' time.
    expect(aLeft).toBeGreaterThan(500);
    expect(bDoneMs).toBeLessThan(2_500);
    expect(a.every((answer) => answer.status === 202)).toBe(true);
  });

  it('caps one tenant’s calls in flight at the target, the others’ going on beside', async () => {
    const { target, proxy, submit, stats } = await setUp(store, [
      '--max-concurrent',
      '4',
      '--num-workers',
      '4',
      '--fair-key',
      'header:X-Proxy-Tenant',
      '--tenant-max-in-flight',
      '1',
    ]);
    const a = [];
    for (let n = 0; n < 3; n++) {
      a.push((await submit(`/api/long?seconds=30&n=${n}`, { 'x-proxy-tenant': 'A' })).body.task_id);
    }
    const b = await submit('/api/long?seconds=30', { 'x-proxy-tenant': 'B' });
    await waitFor(() => target.stats().inFlight === 2, { what: 'one call of A and one of B' });
    expect((await proxy.getTask(b.body.task_id)).status).toBe('processing');
    expect((await stats()).delivery.tenants).toEqual([
      { tenant: 'A', queued: 2, in_flight: 1 },
      { tenant: 'B', queued: 0, in_flight: 1 },
    ]);
    const running = [];
    for (const id of a) if ((await proxy.getTask(id)).status === 'processing') running.push(id);
    expect(running).toHaveLength(1);
    await fetch(`${proxy.url}/task/${running[0]}`, { method: 'DELETE' });
    // A's next call takes the freed place, and still no more than one of A's at once.
    await waitFor(
      async () =>
        (await stats()).delivery.tenants.some(
          (load) => load.tenant === 'A' && load.queued === 1 && load.in_flight === 1,
        ),
      { what: 'A’s next call' },
    );
    await waitFor(() => target.stats().inFlight === 2, { what: 'A’s next call at the target' });
    for (const id of [...a, b.body.task_id])
      await fetch(`${proxy.url}/task/${id}`, { method: 'DELETE' });
  });

  it('caps one tenant’s queued tasks with 503 for that tenant only', async () => {
    const { target, submit, stats } = await setUp(store, [
      '--max-concurrent',
      '1',
      '--num-workers',
      '1',
      '--fair-key',
      'header:X-Proxy-Tenant',
      '--tenant-max-queued',
      '2',
    ]);
    await submit('/api/long?seconds=30', { 'x-proxy-tenant': 'A' });
    await waitFor(() => target.stats().inFlight === 1, { what: 'the first call' });
    expect((await submit('/api/text', { 'x-proxy-tenant': 'A' })).status).toBe(202);
    expect((await submit('/api/text', { 'x-proxy-tenant': 'A' })).status).toBe(202);
    const refused = await submit('/api/text', { 'x-proxy-tenant': 'A' });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('tenant_queue_full');
    expect(refused.body.message).toMatch(
      /^Your share of the queue is full \(2 tasks, --tenant-max-queued\); retry/,
    );
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect((await submit('/api/text', { 'x-proxy-tenant': 'B' })).status).toBe(202);
    const { delivery, totals } = await stats();
    expect(delivery.rejected_tenant_queue_full).toBe(1);
    expect(totals.rejected_queue_full).toBe(0);
  });
});
