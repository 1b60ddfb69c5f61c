import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Redis } from 'ioredis';
import type { DataBody, Stats, SubmitBody, Task, TaskList, TaskSummary } from 'proxy-client/wire';
import { type SlowTarget, startSlowTarget } from 'slow-target';
import {
  type ProxyProcess,
  type RedisServer,
  spawnProxyServer,
  startRedis,
  waitFor,
} from 'test-support';
import { expect, onTestFinished } from 'vitest';
import { RedisKeys } from '../../src/engine/redis/redis-keys.js';

let prefixes = 0;

/** A redis-server of the test's own, stopped when the test finishes. */
export async function redisForTest(options?: { appendonly?: boolean }): Promise<RedisServer> {
  const redis = await startRedis(options);
  onTestFinished(() => redis.close());
  return redis;
}

/** slow-target, keeping every request it gets, closed when the test finishes. */
export async function targetForTest(): Promise<SlowTarget> {
  const target = await startSlowTarget({ recordRequests: true });
  onTestFinished(() => target.close());
  return target;
}

/** What the proxies call: a target, or a gate in front of one. */
export type Upstream = Pick<SlowTarget, 'url'>;

/** A gate in front of a target: calls with `hold=1` in their query wait until `release()`. */
export interface HoldingGate extends Upstream {
  /** Calls the gate holds now (a call whose caller went away still counts until released). */
  held(): number;
  /** Calls in flight through the gate now, held ones included, until their callers go away. */
  inFlight(): number;
  /** The most calls ever in flight through the gate at once, held ones included. */
  maxInFlight(): number;
  /** Lets the held calls through, and every later one at once. */
  release(): void;
}

/**
 * A gate passing calls on to `target`, holding those whose query says `hold=1` until released
 * (a held call whose caller goes away is dropped, never reaching the target). Closed when the
 * test finishes.
 */
export async function holdingGateForTest(target: SlowTarget): Promise<HoldingGate> {
  const upstream = new URL(target.url);
  let released = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const held: (() => void)[] = [];
  const server = createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let ended = false;
    res.on('close', () => {
      if (!ended) inFlight -= 1;
      ended = true;
    });
    const pass = () => {
      if (ended) return;
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      res.on('close', () => out.destroy());
      req.pipe(out);
    };
    if (!released && /[?&]hold=1(&|$)/.test(req.url ?? '')) held.push(pass);
    else pass();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => held.length,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    release: () => {
      released = true;
      for (const pass of held.splice(0)) pass();
    },
  };
}

/** `count` proxy-server processes on one Redis prefix (one queue), killed when the test ends. */
export function startInstances(
  count: number,
  redis: RedisServer,
  target: Upstream,
  options: { cap: number; extra?: string[] },
): Promise<ProxyProcess[]> {
  const launch = instanceLauncher(redis, target, options);
  return Promise.all(Array.from({ length: count }, launch));
}

/** Starts one more proxy-server process on the same prefix each time it is called. */
export function instanceLauncher(
  redis: RedisServer,
  target: Upstream,
  options: { cap: number; extra?: string[] },
): () => Promise<ProxyProcess> {
  const prefix = `e2e-${process.pid}-${++prefixes}`;
  const args = [
    '--target-url',
    target.url,
    '--store',
    redis.url,
    '--redis-prefix',
    prefix,
    '--max-concurrent',
    String(options.cap),
    '--num-workers',
    String(options.cap),
    '--max-queue-size',
    '5000',
    '--log-level',
    'warn',
    ...(options.extra ?? []),
  ];
  return async () => {
    const instance = await spawnProxyServer({ args });
    onTestFinished(async () => {
      await instance.stop('SIGKILL');
    });
    return instance;
  };
}

/** Task `n`'s path: its own URL, so the target's log tells each task's calls apart. */
export const pathOf = (n: number, delayMs: number, query = '') =>
  `/api/text?text=task-${n}&delay_ms=${delayMs}${query}`;

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return ((await response.json()) as DataBody<T>).data;
}

export const statsOf = (proxy: ProxyProcess) => getJson<Stats>(`${proxy.url}/stats`);
export const taskOf = (proxy: ProxyProcess, id: string) => getJson<Task>(`${proxy.url}/task/${id}`);

/**
 * Submits tasks `from` .. `to` - 1, spread over the instances in turn, `parallel` at a time,
 * `query` added to each path.
 */
export async function submitAll(
  instances: ProxyProcess[],
  [from, to]: [number, number],
  delayMs: number,
  { parallel = 24, query = '' }: { parallel?: number; query?: string } = {},
): Promise<string[]> {
  const ids = new Array<string>(to - from);
  let next = from;
  const submitter = async () => {
    for (let n = next++; n < to; n = next++) {
      const proxy = instances[n % instances.length] as ProxyProcess;
      const response = await fetch(proxy.url + pathOf(n, delayMs, query), { method: 'POST' });
      expect(response.status).toBe(202);
      ids[n - from] = ((await response.json()) as SubmitBody).task_id;
    }
  };
  await Promise.all(Array.from({ length: parallel }, submitter));
  return ids;
}

/** Every task id a proxy lists, page by page, with the total it reports. */
export async function listAll(proxy: ProxyProcess): Promise<{ ids: string[]; total: number }> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await getJson<TaskList>(`${proxy.url}/tasks?limit=1000&offset=${offset}`);
    ids.push(...page.tasks.map((task) => task.task_id));
    if (page.tasks.length < 1000) return { ids, total: page.total };
  }
}

/** How many calls the target got for each task number. */
export function runsPerTask(target: SlowTarget): Map<number, number> {
  const runs = new Map<number, number>();
  for (const { url } of target.requests()) {
    const n = Number(/text=task-(\d+)/.exec(url)?.[1]);
    runs.set(n, (runs.get(n) ?? 0) + 1);
  }
  return runs;
}

/** The messages of `GET /events` on one instance, as they come. */
export async function followEvents(proxy: ProxyProcess): Promise<EventSourceMessage[]> {
  const abort = new AbortController();
  onTestFinished(() => abort.abort());
  const response = await fetch(`${proxy.url}/events`, { signal: abort.signal });
  expect(response.status).toBe(200);
  const messages: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => messages.push(message) });
  const body = response.body;
  if (body) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // Aborted when the test ends.
      }
    })();
  }
  return messages;
}

/** [event type, status] of one task's messages, in the order the stream told them. */
export function transitionsOf(messages: EventSourceMessage[], id: string): [string, string][] {
  return messages
    .map((message) => [message.event ?? '', JSON.parse(message.data) as TaskSummary] as const)
    .filter(([, task]) => task.task_id === id)
    .map(([type, task]) => [type, task.status]);
}

/**
 * A shared queue whose one instance holds every slot (`cap`) on calls the gate keeps: its Redis,
 * the launcher of more instances (`extra` flags for each), that instance and the ids of the
 * calls it holds.
 */
export async function oneHoldingEverySlot(cap: number, extra: string[] = []) {
  const redis = await redisForTest();
  const target = await targetForTest();
  const gate = await holdingGateForTest(target);
  const launch = instanceLauncher(redis, gate, { cap, extra });
  const holder = await launch();
  const ids = await submitAll([holder], [0, cap], 10, { query: '&hold=1' });
  await waitFor(async () => gate.held() === cap && (await statsOf(holder)).in_flight === cap, {
    timeoutMs: 30_000,
    what: 'the first instance to hold every slot',
  });
  return { redis, launch, holder, ids };
}

/**
 * What time does to a dead instance's leases (BullMQ's locks, after their duration): they are
 * gone. The prefix is the instances', found by the tasks' keys.
 */
export async function leasesRunOut(redisUrl: string, ids: string[]): Promise<void> {
  const redis = new Redis(redisUrl);
  onTestFinished(() => {
    redis.disconnect();
  });
  const [taskKey] = await redis.keys(`*:task:${ids[0]}`);
  const keys = new RedisKeys(taskKey?.slice(0, -`:task:${ids[0]}`.length) ?? '');
  expect(await redis.del(...ids.map((id) => keys.jobLock(id)))).toBe(ids.length);
}

/** The `task failed` lines an instance logged. */
export const failedLines = (proxy: ProxyProcess): string[] =>
  proxy
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"task failed"'));
