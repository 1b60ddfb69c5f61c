import { Redis } from 'ioredis';
import {
  RedisBackend,
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
    get: failing('get'),
    getRequest: failing('getRequest'),
    list: failing('list'),
    counts: failing('counts'),
    removeFinished: failing('removeFinished'),
    recover: failing('recover'),
  };
}

let fixtures = 0;

/**
 * The Redis backend on a server the test file started, under a fresh key prefix per fixture, so
 * every test starts empty. A backend's clients are recorded (BullMQ's duplicates too) so that
 * `crash()` can cut them all off as the death of its process would, with nothing cleaned up.
 */
export async function redisFixture(url: string): Promise<BackendFixture> {
  const prefix = `conformance-${process.pid}-${++fixtures}`;
  const clock = new FakeClock();
  const admin = new Redis(url);
  const clientsOf = new Map<TaskBackend, Redis[]>();
  return {
    durable: true,
    clock,
    create(settings) {
      const clients: Redis[] = [];
      const record = (client: Redis): Redis => {
        clients.push(client);
        const duplicate = client.duplicate.bind(client);
        client.duplicate = (...args: Parameters<Redis['duplicate']>) => record(duplicate(...args));
        return client;
      };
      const connect: RedisConnector = (redisUrl, options) => record(new Redis(redisUrl, options));
      const faults = new Map<FaultPoint, number>();
      const backend = new RedisBackend({
        url,
        prefix,
        concurrency: settings?.concurrency ?? 2,
        maxQueueSize: settings?.maxQueueSize ?? 100,
        longTaskThresholdMs: settings?.longTaskThresholdMs ?? 60_000,
        requeueInterrupted: settings?.requeueInterrupted ?? false,
        clock,
        connect,
        wrapStore: (store) => faultyStore(store, faults),
      });
      clientsOf.set(backend, clients);
      return {
        backend,
        faults: {
          failNext: (point, times = 1) => faults.set(point, (faults.get(point) ?? 0) + times),
        },
      };
    },
    async crash(backend) {
      for (const client of clientsOf.get(backend) ?? []) client.disconnect();
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
