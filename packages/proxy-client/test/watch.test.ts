import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyClient, type Task, type TaskEvent, TaskNotFoundError } from '../src/index.js';
import { TestEventStream } from './helpers/event-stream.js';
import { errorReply, makeTask, TASK_ID, taskReply } from './helpers/fixtures.js';
import { BASE_URL, createTestServer, useFakeClock } from './helpers/test-server.js';

const server = createTestServer();
const client = () => new ProxyClient({ baseUrl: BASE_URL });
afterEach(() => {
  vi.useRealTimers();
});

const pending = makeTask({ status: 'pending' });
const processing = makeTask({ status: 'processing' });
const completed = makeTask({ status: 'completed' });

/** Streams for successive connections to one route: the n-th connection gets `streams[n]`. */
function streamsOn(path: string, count: number) {
  const streams = Array.from({ length: count }, () => new TestEventStream());
  const route = server.on('get', path, (call, n) => streams[n]!.reply(call));
  return { streams, route };
}

/** Collects what an iterator yields, in the background, as a test drives the stream. */
function collect<T>(iterator: AsyncIterable<T>) {
  const seen: T[] = [];
  const done = (async () => {
    for await (const value of iterator) seen.push(value);
  })();
  return { seen, done };
}

const statuses = (tasks: Task[]) => tasks.map((task) => task.status);

describe('watchTask', () => {
  it('yields the task as it is, then each change, and ends after the finished task', async () => {
    const { streams, route } = streamsOn('/task/:id/events', 1);
    const watch = collect(client().watchTask(TASK_ID));
    const [stream] = streams;
    await stream!.opened;
    stream!.send('task', pending);
    stream!.comment();
    stream!.send('task', processing, '5');
    stream!.send('task', completed, '6');
    await watch.done;
    expect(statuses(watch.seen)).toEqual(['pending', 'processing', 'completed']);
    expect(watch.seen.at(-1)?.result?.body).toEqual({ ok: true });
    expect(route.calls[0]!.headers.get('accept')).toBe('text/event-stream');
    expect(route.calls[0]!.headers.has('last-event-id')).toBe(false);
    expect(stream!.isCancelled).toBe(true);
  });

  it('reconnects after a dropped connection with Last-Event-ID, without repeating a status', async () => {
    const { streams, route } = streamsOn('/task/:id/events', 2);
    const watch = collect(client().watchTask(TASK_ID));
    await streams[0]!.opened;
    streams[0]!.send('task', pending);
    streams[0]!.send('task', processing, '7');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(2));
    streams[0]!.drop();
    await streams[1]!.opened;
    streams[1]!.send('task', processing);
    streams[1]!.send('task', completed, '9');
    await watch.done;
    expect(statuses(watch.seen)).toEqual(['pending', 'processing', 'completed']);
    expect(route.calls.map((call) => call.headers.get('last-event-id'))).toEqual([null, '7']);
  });

  it('reconnects when the server ends the stream early, and when it falls silent', async () => {
    useFakeClock();
    const { streams, route } = streamsOn('/task/:id/events', 3);
    const watch = collect(client().watchTask(TASK_ID));
    await streams[0]!.opened;
    streams[0]!.send('task', processing);
    streams[0]!.end();
    await vi.advanceTimersByTimeAsync(250);
    await streams[1]!.opened;
    // Heartbeats keep a quiet stream alive; three missed ones (45 s) mean a dead connection.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      streams[1]!.comment();
    }
    expect(route.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(streams[1]!.isCancelled).toBe(true);
    await vi.advanceTimersByTimeAsync(250);
    await streams[2]!.opened;
    streams[2]!.send('task', completed, '3');
    await watch.done;
    expect(statuses(watch.seen)).toEqual(['processing', 'completed']);
  });

  it('break closes the connection', async () => {
    const { streams } = streamsOn('/task/:id/events', 1);
    const iterator = client().watchTask(TASK_ID);
    const first = iterator.next();
    await streams[0]!.opened;
    streams[0]!.send('task', processing);
    expect((await first).value).toEqual(processing);
    await iterator.return(undefined);
    await streams[0]!.cancelled;
  });

  it('an aborted signal rejects with its reason and closes the connection', async () => {
    const { streams } = streamsOn('/task/:id/events', 1);
    const controller = new AbortController();
    const watch = collect(client().watchTask(TASK_ID, { signal: controller.signal }));
    await streams[0]!.opened;
    streams[0]!.send('task', processing);
    await vi.waitFor(() => expect(watch.seen).toHaveLength(1));
    const reason = new Error('user gave up');
    controller.abort(reason);
    await expect(watch.done).rejects.toBe(reason);
    await streams[0]!.cancelled;
  });

  it('an unknown task is TaskNotFoundError', async () => {
    server.on('get', '/task/:id/events', errorReply(404, 'task_not_found'));
    await expect(client().watchTask(TASK_ID).next()).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('a status this SDK does not know ends the watch with unknown_status', async () => {
    const { streams } = streamsOn('/task/:id/events', 1);
    const watch = collect(client().watchTask(TASK_ID));
    await streams[0]!.opened;
    streams[0]!.send('task', { ...processing, status: 'paused' });
    await expect(watch.done).rejects.toMatchObject({ code: 'unknown_status' });
  });

  it('a message that is not JSON is invalid_response', async () => {
    const { streams } = streamsOn('/task/:id/events', 1);
    const watch = collect(client().watchTask(TASK_ID));
    await streams[0]!.opened;
    streams[0]!.write('event: task\ndata: {oops\n\n');
    await expect(watch.done).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('tells onOpen of each connection: the first, then a reconnect', async () => {
    const { streams } = streamsOn('/task/:id/events', 2);
    const opens: { reconnected: boolean }[] = [];
    const watch = collect(client().watchTask(TASK_ID, { onOpen: (open) => opens.push(open) }));
    await streams[0]!.opened;
    await vi.waitFor(() => expect(opens).toEqual([{ reconnected: false }]));
    streams[0]!.send('task', processing, '7');
    streams[0]!.drop();
    await streams[1]!.opened;
    await vi.waitFor(() => expect(opens).toHaveLength(2));
    streams[1]!.send('task', completed, '8');
    await watch.done;
    expect(opens).toEqual([{ reconnected: false }, { reconnected: true }]);
  });

  it('tells onOpen nothing when the stream is refused, nor when it polls instead', async () => {
    const onOpen = vi.fn();
    server.on('get', '/task/:id/events', errorReply(404, 'task_not_found'));
    await expect(client().watchTask(TASK_ID, { onOpen }).next()).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    server.on('get', '/task/:id/events', errorReply(404, 'not_found'));
    server.on('get', '/task/:id', taskReply(completed));
    const watch = collect(client().watchTask(TASK_ID, { onOpen }));
    await watch.done;
    expect(statuses(watch.seen)).toEqual(['completed']);
    expect(onOpen).not.toHaveBeenCalled();
  });

  it('against a proxy without event streams, polls on the adaptive schedule', async () => {
    useFakeClock();
    server.on('get', '/task/:id/events', errorReply(404, 'not_found'));
    const reads = server.on(
      'get',
      '/task/:id',
      taskReply(pending),
      taskReply(pending),
      taskReply(processing),
      taskReply(completed),
    );
    const watch = collect(client().watchTask(TASK_ID));
    await vi.advanceTimersByTimeAsync(5000);
    await watch.done;
    expect(statuses(watch.seen)).toEqual(['pending', 'processing', 'completed']);
    expect(reads.calls).toHaveLength(4);
    const gaps = reads.calls.slice(1).map((call, i) => call.at - reads.calls[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(450);
    expect(gaps[0]).toBeLessThanOrEqual(500);
  });
});

describe('watchEvents', () => {
  const summary = (status: Task['status']) => ({ ...makeTask({ status }), result: null });

  /**
   * Two event streams with an outage between them: the first connection, then a reconnect
   * that cannot connect, is refused with 503 and cannot connect again, then the second.
   */
  function streamsAroundAnOutage() {
    const stream = [new TestEventStream(), new TestEventStream()];
    const route = server.on(
      'get',
      '/events',
      (call) => stream[0]!.reply(call),
      { network: true },
      errorReply(503, 'shutting_down'),
      { network: true },
      (call) => stream[1]!.reply(call),
    );
    return { stream, route };
  }

  it('yields each transition with its id, skipping event types it does not know', async () => {
    const { streams, route } = streamsOn('/events', 1);
    const controller = new AbortController();
    const watch = collect(client().watchEvents({ signal: controller.signal }));
    await streams[0]!.opened;
    streams[0]!.send('created', summary('pending'), '1');
    streams[0]!.send('paused', summary('pending'), '2');
    streams[0]!.send('started', summary('processing'), '3');
    streams[0]!.send('finished', summary('completed'), '4');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(3));
    controller.abort();
    await expect(watch.done).rejects.toMatchObject({ name: 'AbortError' });
    expect(watch.seen.map((event) => event.type)).toEqual(['created', 'started', 'finished']);
    expect(watch.seen[2]).toEqual({ type: 'finished', id: '4', task: summary('completed') });
    expect(route.calls[0]!.url.search).toBe('');
  });

  it('resumes after a dropped connection with Last-Event-ID, and passes on the proxy reset', async () => {
    const { streams, route } = streamsOn('/events', 2);
    const controller = new AbortController();
    const watch = collect(client().watchEvents({ signal: controller.signal }));
    await streams[0]!.opened;
    streams[0]!.send('created', summary('pending'), '10');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(1));
    streams[0]!.drop();
    await streams[1]!.opened;
    streams[1]!.send('reset', {});
    await vi.waitFor(() => expect(watch.seen).toHaveLength(2));
    controller.abort();
    await watch.done.catch(() => {});
    expect(watch.seen.map((event) => event.type)).toEqual(['created', 'reset']);
    expect(route.calls.map((call) => call.headers.get('last-event-id'))).toEqual([null, '10']);
  });

  it('waits out a proxy that went away once connected, and resumes where it was', async () => {
    useFakeClock();
    const { stream, route } = streamsAroundAnOutage();
    const controller = new AbortController();
    const watch = collect(client().watchEvents({ signal: controller.signal }));
    await stream[0]!.opened;
    stream[0]!.send('created', summary('pending'), '10');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(1));
    stream[0]!.drop();
    // The request's own retries, then the stream's growing pauses, up to 10 s each.
    await vi.advanceTimersByTimeAsync(60_000);
    await stream[1]!.opened;
    stream[1]!.send('finished', summary('completed'), '11');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(2));
    controller.abort();
    await watch.done.catch(() => {});
    expect(watch.seen.map((event) => event.type)).toEqual(['created', 'finished']);
    expect(route.calls.at(-1)?.headers.get('last-event-id')).toBe('10');
  });

  // Hostile pass: proxy-cli watch's table said "live from the proxy's events" while the proxy
  // was gone, since the stream rode the outage out without a word.
  it('tells onOutage when the proxy goes away (once per outage) and when it is back', async () => {
    useFakeClock();
    const { stream } = streamsAroundAnOutage();
    const heard: string[] = [];
    const controller = new AbortController();
    const watch = collect(
      client().watchEvents({
        signal: controller.signal,
        onOutage: (error) => heard.push(error === undefined ? 'back' : `away: ${error.code}`),
      }),
    );
    await stream[0]!.opened;
    stream[0]!.send('created', summary('pending'), '10');
    await vi.waitFor(() => expect(watch.seen).toHaveLength(1));
    expect(heard).toEqual([]);
    stream[0]!.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    await stream[1]!.opened;
    await vi.waitFor(() => expect(heard).toEqual(['away: unreachable', 'back']));
    controller.abort();
    await watch.done.catch(() => {});
  });

  it('tells onOutage the proxy is back when a reconnect is refused, before it rejects', async () => {
    useFakeClock();
    const stream = new TestEventStream();
    server.on(
      'get',
      '/events',
      (call) => stream.reply(call),
      // The reconnect and both of its retries.
      { network: true },
      { network: true },
      { network: true },
      errorReply(401, 'unauthorized'),
    );
    const heard: string[] = [];
    const watch = collect(
      client().watchEvents({
        onOutage: (error) => heard.push(error === undefined ? 'back' : `away: ${error.code}`),
      }),
    );
    const ended = watch.done.catch((error: unknown) => error);
    await stream.opened;
    stream.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await ended).toMatchObject({ code: 'unauthorized' });
    expect(heard).toEqual(['away: unreachable', 'back']);
  });

  it('tells onOpen of each connection, a reconnect after an outage included', async () => {
    useFakeClock();
    const { stream } = streamsAroundAnOutage();
    const heard: string[] = [];
    const controller = new AbortController();
    const watch = collect(
      client().watchEvents({
        signal: controller.signal,
        onOutage: (error) => heard.push(error === undefined ? 'back' : 'away'),
        onOpen: ({ reconnected }) => heard.push(reconnected ? 'reconnected' : 'connected'),
      }),
    );
    await stream[0]!.opened;
    await vi.waitFor(() => expect(heard).toEqual(['connected']));
    let reopened = false;
    void stream[1]!.opened.then(() => {
      reopened = true;
    });
    stream[0]!.drop();
    // A second at a time: the new stream, silent for 45 s, would be dropped and opened again.
    while (!reopened) await vi.advanceTimersByTimeAsync(1_000);
    await vi.waitFor(() => expect(heard).toEqual(['connected', 'away', 'back', 'reconnected']));
    controller.abort();
    await watch.done.catch(() => {});
  });

  it('tells onOpen nothing when the connection is refused or cannot be made', async () => {
    useFakeClock();
    const onOpen = vi.fn();
    server.on('get', '/events', errorReply(401, 'unauthorized'));
    await expect(client().watchEvents({ onOpen }).next()).rejects.toMatchObject({
      code: 'unauthorized',
    });
    server.on('get', '/events', { network: true });
    const unreachable = client()
      .watchEvents({ onOpen })
      .next()
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await unreachable).toMatchObject({ code: 'unreachable' });
    expect(onOpen).not.toHaveBeenCalled();
  });

  it.each<[string, (c: ProxyClient, onOpen: unknown) => AsyncGenerator<unknown>]>([
    ['watchTask', (c, onOpen) => c.watchTask(TASK_ID, { onOpen } as never)],
    ['watchEvents', (c, onOpen) => c.watchEvents({ onOpen } as never)],
  ])('%s refuses an onOpen that is no function, before connecting', async (method, watch) => {
    await expect(watch(client(), 'log').next()).rejects.toThrow(
      new TypeError(`${method}(): onOpen must be a function, got string`),
    );
    expect(server.calls).toHaveLength(0);
  });

  it('a first connection that cannot be made rejects, after the request retries', async () => {
    useFakeClock();
    server.on('get', '/events', { network: true });
    const watch = collect(client().watchEvents());
    const outcome = watch.done.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toMatchObject({ code: 'unreachable' });
  });

  it('a reconnect with no event id to resume from is a reset: events may have been missed', async () => {
    const { streams } = streamsOn('/events', 2);
    const iterator = client().watchEvents();
    const first = iterator.next();
    await streams[0]!.opened;
    streams[0]!.end();
    expect((await first).value).toEqual({ type: 'reset' } satisfies TaskEvent);
    await iterator.return(undefined);
    await streams[1]!.cancelled;
  });

  it('sends the status filter and a starting lastEventId', async () => {
    const { streams, route } = streamsOn('/events', 1);
    const iterator = client().watchEvents({ status: ['failed', 'cancelled'], lastEventId: '42' });
    const first = iterator.next();
    await streams[0]!.opened;
    streams[0]!.send('finished', summary('failed'), '43');
    await first;
    await iterator.return(undefined);
    expect(route.calls[0]!.query.get('status')).toBe('failed,cancelled');
    expect(route.calls[0]!.headers.get('last-event-id')).toBe('42');
    await client().watchEvents({ status: 'completed' }).return(undefined);
  });

  it('refuses a status it does not know, and an answer that is not an event stream', async () => {
    await expect(
      client()
        .watchEvents({ status: 'done' as never })
        .next(),
    ).rejects.toThrow(/status must be one of pending, processing/);
    server.on('get', '/events', { json: { success: true } });
    await expect(client().watchEvents().next()).rejects.toMatchObject({
      code: 'invalid_response',
    });
  });
});
