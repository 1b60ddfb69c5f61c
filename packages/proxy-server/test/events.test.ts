import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Task, TaskSummary } from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { shutdownServer } from '../src/index.js';
import { FakeClock } from './engine/harness.js';
import { startProxy, startTarget } from './helper.js';

const STORES = ['memory', 'sqlite'] as const;

async function proxyOn(store: (typeof STORES)[number], flags: string[] = [], heartbeatMs = 15_000) {
  let storeFlags = ['--store', 'memory'];
  if (store === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-events-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    storeFlags = ['--store', 'sqlite', '--data-dir', dir];
  }
  const target = await startTarget();
  const proxy = await startProxy(target.url, {
    listen: true,
    flags: [...storeFlags, ...flags],
    deps: { eventStream: { heartbeatMs } },
  });
  return { target, proxy };
}

/** An open SSE connection: the messages so far, comments counted, and a way to leave. */
interface OpenStream {
  status: number;
  messages: EventSourceMessage[];
  comments: number;
  ended: Promise<void>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const stream: OpenStream = {
    status: response.status,
    messages: [],
    comments: 0,
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  const parser = createParser({
    onEvent: (message) => stream.messages.push(message),
    onComment: () => {
      stream.comments++;
    },
  });
  const body = response.body;
  if (!body) return stream;
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // Aborted by the test: the client left.
    }
  })();
  return stream;
}

/**
 * A GET sending each of `ids` on a `Last-Event-ID` line of its own (fetch would join them into
 * one): the status, and the body of an answer that is not a stream (a stream is left at once).
 */
function getWithLastEventIds(
  url: string,
  ids: string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers: { 'last-event-id': ids } }, (response) => {
      const status = response.statusCode ?? 0;
      if (response.headers['content-type']?.startsWith('text/event-stream')) {
        response.destroy();
        resolve({ status, body: '' });
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const dataOf = <T>(message: EventSourceMessage | undefined) =>
  JSON.parse(message?.data ?? 'null') as T;

describe.each(STORES)('event streams on the %s store', (store) => {
  it('GET /task/:id/events: the task, each status change in order, ending with the result', async () => {
    const { target, proxy } = await proxyOn(store, ['--max-concurrent', '1', '--num-workers', '1']);
    const blocker = await proxy.submit('/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });
    const id = await proxy.submit('/api/text?text=streamed&delay_ms=100');
    const stream = await openStream(`${proxy.url}/task/${id}/events`);
    expect(stream.status).toBe(200);
    await waitFor(() => stream.messages.length === 1, { what: 'the first message' });
    await fetch(`${proxy.url}/task/${blocker}`, { method: 'DELETE' });
    await stream.ended;
    const statuses = stream.messages.map((message) => dataOf<Task>(message).status);
    expect(statuses).toEqual(['pending', 'processing', 'completed']);
    expect(stream.messages.every((message) => message.event === 'task')).toBe(true);
    expect(stream.messages[0]?.id).toBeUndefined();
    expect(stream.messages[1]?.id).toEqual(expect.any(String));
    expect(dataOf<Task>(stream.messages[2])).toMatchObject({ result: { body: 'streamed' } });
    expect(proxy.app.proxy.events.size).toBe(0);
  });

  it('a shutdown sends a task stream the task cut off, as its last message, before ending it', async () => {
    const { target, proxy } = await proxyOn(store);
    const id = await proxy.submit('/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    const stream = await openStream(`${proxy.url}/task/${id}/events`);
    await waitFor(() => stream.messages.length === 1, { what: 'the task as it is' });
    await shutdownServer(proxy.app, 100);
    await stream.ended;
    expect(stream.messages.at(-1)?.id).toBe('end');
    expect(dataOf<Task>(stream.messages.at(-1))).toMatchObject({
      status: 'failed',
      error: { code: 'interrupted' },
    });
  });

  it('GET /task/:id/events on a finished task: one message, then the end; 404 for an unknown task', async () => {
    const { proxy } = await proxyOn(store);
    const id = await proxy.submit('/api/text?text=done');
    await proxy.finished(id);
    const stream = await openStream(`${proxy.url}/task/${id}/events`);
    await stream.ended;
    expect(stream.messages.map((message) => dataOf<Task>(message).status)).toEqual(['completed']);
    const missing = await fetch(`${proxy.url}/task/00000000-0000-4000-8000-000000000000/events`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'task_not_found' });
  });

  it('GET /task/:id/events resumed after an event later than its finish: the finished task, then the end', async () => {
    // Hostile pass: the id was one from /events, read after the task had finished; the stream
    // replayed nothing for this task, and sent heartbeats for ever.
    const { proxy } = await proxyOn(store);
    const all = await openStream(`${proxy.url}/events`);
    const id = await proxy.submit('/api/text?text=done');
    await proxy.finished(id);
    await proxy.finished(await proxy.submit('/api/text?text=later'));
    await waitFor(() => all.messages.filter((m) => m.event === 'finished').length === 2, {
      what: 'both finishes on /events',
    });
    all.close();
    const lastSeen = all.messages.at(-1)?.id ?? '';
    const stream = await openStream(`${proxy.url}/task/${id}/events`, {
      'last-event-id': lastSeen,
    });
    await stream.ended;
    expect(stream.messages.map((message) => [message.id, dataOf<Task>(message).status])).toEqual([
      ['end', 'completed'],
    ]);
  });

  it('GET /events: every transition in order, filtered by status, resumed after Last-Event-ID without a gap', async () => {
    const { target, proxy } = await proxyOn(store, ['--max-concurrent', '1', '--num-workers', '1']);
    const all = await openStream(`${proxy.url}/events`);
    const finishedOnly = await openStream(`${proxy.url}/events?status=completed,failed`);
    const blocker = await proxy.submit('/api/long?seconds=30');
    await waitFor(() => target.stats().inFlight === 1, { what: 'the blocker to start' });
    const a = await proxy.submit('/api/text?text=a');
    await waitFor(() => all.messages.length === 3, { what: 'created, started, created' });
    const lastSeen = all.messages.at(-1)?.id as string;
    all.close();
    await all.ended;
    await waitFor(() => proxy.app.proxy.events.size === 1, { what: 'the stream to be forgotten' });

    await fetch(`${proxy.url}/task/${blocker}`, { method: 'DELETE' });
    await proxy.finished(a);
    const resumed = await openStream(`${proxy.url}/events`, { 'last-event-id': lastSeen });
    await waitFor(() => resumed.messages.length === 3, { what: 'the missed events' });
    const seen = resumed.messages.map((message) => [
      message.event,
      dataOf<TaskSummary>(message).task_id,
    ]);
    expect(seen).toEqual([
      ['finished', blocker],
      ['started', a],
      ['finished', a],
    ]);
    expect(dataOf<TaskSummary>(resumed.messages[0])).toMatchObject({ status: 'cancelled' });
    await waitFor(() => finishedOnly.messages.length === 1, { what: 'the completed task' });
    expect(finishedOnly.messages.map((message) => dataOf<TaskSummary>(message).status)).toEqual([
      'completed',
    ]);
    expect(dataOf<TaskSummary>(finishedOnly.messages[0]).result).not.toHaveProperty('body');
    resumed.close();
    finishedOnly.close();
  });

  it("GET /events estimates a queued task's start as GET /task/:id does, by how long the call in flight has run", async () => {
    // Review: a message of /events spread the mean over the slots as if the call in flight had
    // just started, while a read of the task counted its age: behind two 1 h calls 7 min in,
    // one said +30 min and the other +53.
    const { proxy } = await proxyOn(store, ['--max-concurrent', '1', '--num-workers', '1']);
    const meanMs = 3_000;
    await proxy.finished(await proxy.submit(`/api/text?text=mean&delay_ms=${meanMs}`));
    const blocker = await proxy.submit('/api/long?seconds=30');
    const runningFor = async () => {
      const startedAt = (await proxy.getTask(blocker)).started_at;
      return startedAt === null ? 0 : Date.now() - Date.parse(startedAt);
    };
    await waitFor(async () => (await runningFor()) >= 1_000, { what: 'the call to run a second' });
    const all = await openStream(`${proxy.url}/events`);
    const id = await proxy.submit('/api/text?text=queued');
    const created = () =>
      all.messages.find(
        (message) => message.event === 'created' && dataOf<TaskSummary>(message).task_id === id,
      );
    await waitFor(() => created() !== undefined, { what: 'the queued task on /events' });
    const read = await proxy.getTask(id);
    expect(await runningFor()).toBeLessThan(meanMs);
    const sent = dataOf<TaskSummary>(created());
    expect(sent.queue_position).toBe(1);
    expect(read.queue_position).toBe(1);
    // Both are the call's start plus the mean, whenever they were made.
    const apartMs =
      Date.parse(sent.estimated_start_at ?? '') - Date.parse(read.estimated_start_at ?? '');
    expect(Math.abs(apartMs)).toBeLessThan(100);
    all.close();
    await fetch(`${proxy.url}/task/${blocker}`, { method: 'DELETE' });
  });

  it('GET /events resumed after more missed events than a client may leave unread: all of them, in order', async () => {
    // 1,000 tasks make 3,000 events, well over the 1 MiB a stream may hold unread.
    const { proxy } = await proxyOn(store, ['--max-concurrent', '50', '--num-workers', '50']);
    const watcher = await openStream(`${proxy.url}/events`);
    const first = await proxy.submit('/api/text?text=first');
    await waitFor(() => watcher.messages.length >= 1, { what: 'the first event' });
    const from = watcher.messages[0]?.id as string;
    const ids = [first];
    for (let n = 0; n < 999; n++) ids.push(await proxy.submit(`/api/text?text=${'x'.repeat(200)}`));
    for (const id of ids) await proxy.finished(id);
    const expected = 3 * ids.length - 1;
    await waitFor(() => watcher.messages.length === 3 * ids.length, { what: 'every live event' });
    const resumed = await openStream(`${proxy.url}/events`, { 'last-event-id': from });
    await waitFor(() => resumed.messages.length >= expected, {
      what: 'every missed event',
      timeoutMs: 20_000,
    });
    expect(resumed.messages.map((message) => message.id)).toEqual(
      watcher.messages.slice(1).map((message) => message.id),
    );
    expect(resumed.messages.map((message) => message.event)).not.toContain('reset');
    resumed.close();
    watcher.close();
  });

  it('GET /task/:id/events ends with id "end", and a reconnect with it gets 204, which stops EventSource', async () => {
    const { proxy } = await proxyOn(store);
    const id = await proxy.submit('/api/text?text=done');
    await proxy.finished(id);
    const stream = await openStream(`${proxy.url}/task/${id}/events`);
    await stream.ended;
    expect(stream.messages.at(-1)?.id).toBe('end');
    const again = await fetch(`${proxy.url}/task/${id}/events`, {
      headers: { 'last-event-id': 'end' },
    });
    expect(again.status).toBe(204);
    expect(await again.text()).toBe('');
  });

  it('GET /events with an id it no longer has: reset, then live events', async () => {
    const { proxy } = await proxyOn(store);
    const stream = await openStream(`${proxy.url}/events`, { 'last-event-id': 'gone-1' });
    await waitFor(() => stream.messages.length === 1, { what: 'the reset' });
    expect(stream.messages[0]?.event).toBe('reset');
    await proxy.submit('/api/text');
    await waitFor(() => stream.messages.length >= 2, { what: 'a live event' });
    expect(stream.messages[1]?.event).toBe('created');
    stream.close();
    const bad = await fetch(`${proxy.url}/events?status=done`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_query' });
  });

  // Header edges: two Last-Event-ID lines reached the route joined ("a, b"), passed for an
  // unknown id and got a reset, where a header the proxy reads sent twice is refused.
  it('Last-Event-ID sent twice: 400 naming it, on both streams, no stream opened', async () => {
    const { proxy } = await proxyOn(store);
    const id = await proxy.submit('/api/text');
    for (const path of ['/events', `/task/${id}/events`]) {
      const answer = await getWithLastEventIds(`${proxy.url}${path}`, ['gone-1', 'gone-2']);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(answer.body)).toEqual({
        success: false,
        error: 'bad_request',
        message: 'Send one Last-Event-ID header, not several',
      });
    }
    const one = await openStream(`${proxy.url}/events`, { 'last-event-id': 'gone-1, gone-2' });
    await waitFor(() => one.messages.length === 1, { what: 'the reset of one unknown id' });
    expect(one.messages[0]?.event).toBe('reset');
    one.close();
  });

  it('sends heartbeats while nothing happens', async () => {
    const { proxy } = await proxyOn(store, [], 50);
    const stream = await openStream(`${proxy.url}/events`);
    await waitFor(() => stream.comments >= 2, { what: 'two heartbeats' });
    stream.close();
  });

  it('releases 1,000 event streams and 1,000 waiting reads with one burst of finishes, and forgets them all', async () => {
    const { target, proxy } = await proxyOn(store, [
      '--max-concurrent',
      '100',
      '--num-workers',
      '100',
    ]);
    const ids = await Promise.all(
      Array.from({ length: 100 }, (_, n) => proxy.submit(`/api/long?seconds=30&n=${n}`)),
    );
    await waitFor(() => target.stats().inFlight === 100, { what: 'every call to start' });
    const before = proxy.app.proxy.backend.listenerCounts();
    const streams = await Promise.all(
      Array.from({ length: 1_000 }, (_, n) =>
        openStream(`${proxy.url}/task/${ids[n % 100]}/events`),
      ),
    );
    const reads = Array.from({ length: 1_000 }, (_, n) =>
      fetch(`${proxy.url}/task/${ids[n % 100]}?wait=60`).then(
        async (r) => ((await r.json()) as { data: Task }).data,
      ),
    );
    await waitFor(() => proxy.app.proxy.backend.listenerCounts().waiters === 1_000, {
      what: 'the waiting reads to wait',
      timeoutMs: 20_000,
    });
    expect(proxy.app.proxy.events.size).toBe(1_000);
    await Promise.all(ids.map((id) => fetch(`${proxy.url}/task/${id}`, { method: 'DELETE' })));
    const finished = await Promise.all(reads);
    expect(finished.every((task) => task.status === 'cancelled')).toBe(true);
    await Promise.all(streams.map((stream) => stream.ended));
    for (const stream of streams) {
      expect(dataOf<Task>(stream.messages.at(-1)).status).toBe('cancelled');
    }
    await waitFor(() => proxy.app.proxy.events.size === 0, {
      what: 'every stream to be forgotten',
    });
    expect(proxy.app.proxy.backend.listenerCounts()).toEqual({ ...before, waiters: 0 });
  });
});

// Review: the gateway test passed with heartbeats three times --max-wait apart.
describe('event streams under --max-wait', () => {
  async function streamOn(flags: string[]) {
    const clock = new FakeClock();
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags, deps: { clock } });
    const stream = await openStream(`${proxy.url}/events`);
    onTestFinished(() => stream.close());
    return { clock, stream };
  }

  it('send a heartbeat every --max-wait seconds when that is under 15', async () => {
    const { clock, stream } = await streamOn(['--max-wait', '2']);
    clock.advance(2_000);
    await waitFor(() => stream.comments === 1, { what: 'the first heartbeat' });
    clock.advance(2_000);
    await waitFor(() => stream.comments === 2, { what: 'the second heartbeat' });
  });

  it('send one every 15 s with the default', async () => {
    const { clock, stream } = await streamOn([]);
    clock.advance(15_000);
    await waitFor(() => stream.comments >= 1, { what: 'a heartbeat' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.comments).toBe(1);
  });
});

// Routes reader: on Redis the route's lookup is a round trip; a client that left meanwhile had
// its stream opened on a closed answer, which kept its listener and heartbeat until the task
// finished (one per reconnect, for a task of hours).
describe('an event stream whose client left during the lookup', () => {
  it('is closed as it opens, and keeps no listener', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const id = await proxy.submit('/api/long?seconds=30');
    const { backend } = proxy.app.proxy;
    const get = backend.get.bind(backend);
    let lookedUp = () => {};
    const lookup = new Promise<void>((resolve) => {
      lookedUp = resolve;
    });
    let answer = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let routeGoesOn = () => {};
    const routeWentOn = new Promise<void>((resolve) => {
      routeGoesOn = resolve;
    });
    backend.get = async (...args) => {
      lookedUp();
      await answered;
      try {
        return await get(...args);
      } finally {
        // Past the route's own continuation: the stream is open by then.
        setImmediate(routeGoesOn);
      }
    };
    const serverSide = once(proxy.app.server, 'connection') as Promise<[Socket]>;
    const { port } = new URL(proxy.url);
    const client = connect(Number(port), '127.0.0.1', () => {
      client.write(`GET /task/${id}/events HTTP/1.1\r\nHost: proxy\r\n\r\n`);
    });
    // A reset as the proxy lets go would be an uncaught error after the test.
    client.on('error', () => {});
    const [socket] = await serverSide;
    const left = once(socket, 'close');
    await lookup;
    client.destroy();
    await left;
    answer();
    await routeWentOn;
    expect(proxy.app.proxy.events.size).toBe(0);
  });
});

// Routes reader: a HEAD ran the stream's handler, which sent the headers and never ended, so
// the next request on that connection waited for ever.
describe('HEAD on an event stream', () => {
  it('answers the headers and ends, so the connection serves the next request', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true, flags: ['--store', 'memory'] });
    const id = await proxy.submit('/api/long?seconds=30');
    const { port } = new URL(proxy.url);
    const client = connect(Number(port), '127.0.0.1');
    client.on('error', () => {});
    onTestFinished(() => void client.destroy());
    let received = '';
    client.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const request = (line: string) => `${line} HTTP/1.1\r\nHost: proxy\r\n\r\n`;
    client.write(
      request('HEAD /events') + request(`HEAD /task/${id}/events`) + request('GET /health'),
    );
    await waitFor(() => received.includes('"status":'), { what: 'the answer to GET /health' });
    const statusLines = received.match(/^HTTP\/1\.1 \d+/gm);
    expect(statusLines).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(received).toContain('content-type: text/event-stream');
    expect(proxy.app.proxy.events.size).toBe(0);
  });
});
