import { type Command, Redis } from 'ioredis';
import { type RedisServer, startRedis } from 'test-support';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  RedisBackend,
  type RedisBackendOptions,
  type RedisConnector,
  type RedisTaskStore,
  type TaskBackend,
} from '../../src/index.js';
import type { BackendFixture, FaultPoint } from './conformance.js';
import { FakeClock } from './harness.js';

const OPERATIONS: Record<FaultPoint, keyof RedisTaskStore> = {
  admit: 'admit',
  start: 'start',
  finish: 'finish',
  read: 'get',
};

/** A task store whose named operations throw `store failure: <point>` the next few times. */
function faultyStore(inner: RedisTaskStore, faults: Map<FaultPoint, number>): RedisTaskStore {
  const failing = <K extends keyof RedisTaskStore>(name: K): RedisTaskStore[K] => {
    const point = (Object.keys(OPERATIONS) as FaultPoint[]).find((p) => OPERATIONS[p] === name);
    const operation = inner[name].bind(inner) as (...args: unknown[]) => Promise<unknown>;
    return (async (...args: unknown[]) => {
      const left = point === undefined ? 0 : (faults.get(point) ?? 0);
      if (point !== undefined && left > 0) {
        faults.set(point, left - 1);
        throw new Error(`store failure: ${point}`);
      }
      return operation(...args);
    }) as RedisTaskStore[K];
  };
  return {
    admit: failing('admit'),
    discard: failing('discard'),
    start: failing('start'),
    finish: failing('finish'),
    requeue: failing('requeue'),
    retry: failing('retry'),
    wake: failing('wake'),
    park: failing('park'),
    setCallback: failing('setCallback'),
    pendingCallbacks: failing('pendingCallbacks'),
    get: failing('get'),
    getRequest: failing('getRequest'),
    list: failing('list'),
    counts: failing('counts'),
    removeFinished: failing('removeFinished'),
    recover: failing('recover'),
    finishedCalls: failing('finishedCalls'),
  };
}

let fixtures = 0;

/**
 * Makes Redis clients and keeps each (and every duplicate made from it, as BullMQ's worker
 * makes for its blocking connection), so that `cutOff()` can drop them all at once, as the
 * death of the process holding them would: nothing is cleaned up, nothing more is sent.
 * `onCommand` hears every command they send.
 */
export function recordingConnector(onCommand?: (command: Command) => void): {
  connect: RedisConnector;
  cutOff(): void;
} {
  const clients: Redis[] = [];
  const record = (client: Redis): Redis => {
    clients.push(client);
    if (onCommand) {
      const send = client.sendCommand.bind(client);
      client.sendCommand = (command, stream) => {
        onCommand(command);
        return send(command, stream);
      };
    }
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (...args: Parameters<Redis['duplicate']>) => record(duplicate(...args));
    return client;
  };
  return {
    connect: (url, options) => record(new Redis(url, options)),
    cutOff() {
      for (const client of clients) client.disconnect();
    },
  };
}

/**
 * Makes Redis clients whose event feed (the `events` connection) gets no reply to its stream
 * reads until `release()`: till then, the instance's listeners hear only the events its own
 * scripts answered with, in the order it told them, as a feed that lags behind under load.
 */
export function feedHeldBack(): { connect: RedisConnector; release(): void } {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    connect: (url, options) => {
      const client = new Redis(url, options);
      if (options.connectionName !== 'proxy-server:events') return client;
      const read = client.xreadBuffer.bind(client) as (...args: unknown[]) => Promise<unknown>;
      client.xreadBuffer = (async (...args: unknown[]) => {
        const reply = await read(...args);
        await released;
        return reply;
      }) as Redis['xreadBuffer'];
      return client;
    },
    release: () => release(),
  };
}

/**
 * The Redis backend on a server the test file started, under a fresh key prefix per fixture, so
 * every test starts empty. `crash()` cuts a backend's connections off and lets its leases run
 * out at once, so the next backend opened finds its calls as a dead instance leaves them.
 */
export async function redisFixture(url: string): Promise<BackendFixture> {
  const prefix = `conformance-${process.pid}-${++fixtures}`;
  const clock = new FakeClock();
  const admin = new Redis(url);
  const connectors = new Map<TaskBackend, ReturnType<typeof recordingConnector>>();
  return {
    durable: true,
    clock,
    create(settings) {
      const connector = recordingConnector();
      const faults = new Map<FaultPoint, number>();
      const backend = new RedisBackend({
        url,
        prefix,
        concurrency: settings?.concurrency ?? 2,
        maxQueueSize: settings?.maxQueueSize ?? 100,
        maxTasks: settings?.maxTasks ?? null,
        tenantMaxQueued: settings?.tenantMaxQueued ?? null,
        tenantMaxInFlight: settings?.tenantMaxInFlight ?? null,
        ...(settings?.retry ? { retry: settings.retry } : {}),
        longTaskThresholdMs: settings?.longTaskThresholdMs ?? 60_000,
        maxRequeues: settings?.maxRequeues ?? 0,
        clock,
        connect: connector.connect,
        wrapStore: (store) => faultyStore(store, faults),
      });
      connectors.set(backend, connector);
      return {
        backend,
        faults: {
          failNext: (point, times = 1) => faults.set(point, (faults.get(point) ?? 0) + times),
        },
      };
    },
    async crash(backend) {
      connectors.get(backend)?.cutOff();
      // What time does to a dead worker's leases (after the lock duration): they are gone.
      const active = await admin.lrange(`${prefix}:tasks:active`, 0, -1);
      if (active.length > 0) await admin.del(...active.map((id) => `${prefix}:tasks:${id}:lock`));
    },
    async dispose() {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    },
  };
}

/**
 * A redis-server for the calling test file, started before its tests and stopped after them,
 * and the list of backends its tests open (`open`), closed after each test.
 */
export function redisPerFile(): { readonly url: string; open: TaskBackend[] } {
  let server: RedisServer | undefined;
  const open: TaskBackend[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    for (const backend of open.splice(0)) await backend.close();
  });
  afterAll(() => server?.close());
  return {
    get url() {
      if (!server) throw new Error('the test Redis starts before the tests: use it in one');
      return server.url;
    },
    open,
  };
}

/**
 * A one-slot Redis backend on `prefix` whose store operation `name` is `replace(original)`,
 * closed after the test (with `open`, from `redisPerFile`).
 */
export function backendReplacing<K extends keyof RedisTaskStore>(
  redis: { readonly url: string; open: TaskBackend[] },
  prefix: string,
  name: K,
  replace: (original: RedisTaskStore[K]) => RedisTaskStore[K],
  maxRequeues = 0,
): RedisBackend {
  const backend = oneSlotBackend(redis.url, prefix, {
    maxRequeues,
    wrapStore: (store) =>
      new Proxy(store, {
        get(target, key) {
          const value = Reflect.get(target, key) as unknown;
          if (typeof value !== 'function') return value;
          const bound = value.bind(target) as RedisTaskStore[K];
          return key === name ? replace(bound) : bound;
        },
      }),
  });
  redis.open.push(backend);
  return backend;
}

/** A Redis backend that runs one task at once and queues ten, on `prefix`. */
export function oneSlotBackend(
  url: string,
  prefix: string,
  options: Partial<RedisBackendOptions> = {},
): RedisBackend {
  return new RedisBackend({
    url,
    prefix,
    concurrency: 1,
    maxQueueSize: 10,
    longTaskThresholdMs: 60_000,
    maxRequeues: 0,
    ...options,
  });
}
