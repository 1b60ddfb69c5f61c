import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesOf, unpackHeaders } from '../../src/engine/stored-request.js';
import {
  DEFAULT_POLICY,
  isStoreUnavailableError,
  type RecoveryReport,
  type RetryDecision,
  retryPolicy,
  type TaskBackend,
  type TaskEvent,
  type TaskOutcome,
  type TaskPolicy,
} from '../../src/index.js';
import {
  admitMany,
  binaryResult,
  completed,
  type FakeClock,
  newTask,
  ScriptedProcessor,
} from './harness.js';

export interface BackendSettings {
  concurrency: number;
  maxQueueSize: number;
  maxTasks: number | null;
  retry?: RetryDecision;
  rateLimit?: { perSecond: number; burst: number } | null;
  tenantMaxInFlight?: number | null;
  tenantMaxQueued?: number | null;
  longTaskThresholdMs: number;
  maxRequeues: number;
}

/** Backend-level operations a fixture can make fail, whatever the backend underneath. */
export type FaultPoint = 'admit' | 'start' | 'finish' | 'read';

export interface FaultInjector {
  /** The next `times` store operations behind `point` throw. */
  failNext(point: FaultPoint, times?: number): void;
}

export interface BackendFixture {
  /** Whether tasks outlive the backend that held them. */
  durable: boolean;
  clock: FakeClock;
  /** A backend (not opened) on this fixture's storage. */
  create(settings?: Partial<BackendSettings>): { backend: TaskBackend; faults: FaultInjector };
  /** Drops a backend as a dying process would: uncommitted work lost, the store released. */
  crash(backend: TaskBackend): Promise<void>;
  /** Removes what the fixture made; called after each test. */
  dispose(): Promise<void>;
}

/**
 * What a backend carries out of the delivery policy beyond the rest of the contract. The tests
 * of a feature a backend lacks are not registered for it; such a backend must refuse the
 * feature's flags at start (config/parse-config.ts), and docs/configuration.md lists what it
 * refuses.
 */
export interface BackendCapabilities {
  /** `--fair-key`: tenants served in turn, the cap on a tenant's queued tasks, the tenants in counts. */
  fairSharing: boolean;
  /** `--tenant-max-in-flight`: the cap on one tenant's calls in flight. */
  tenantMaxInFlight: boolean;
  /**
   * `--max-rps` counted on the fixture's clock. A backend whose limiter keeps another time
   * (BullMQ's, Redis's own) tests it apart, on real time.
   */
  rateLimit: boolean;
}

export const EVERY_CAPABILITY: BackendCapabilities = {
  fairSharing: true,
  tenantMaxInFlight: true,
  rateLimit: true,
};

const DEFAULTS: BackendSettings = {
  concurrency: 2,
  maxQueueSize: 100,
  maxTasks: null,
  longTaskThresholdMs: 60_000,
  maxRequeues: 0,
};

/**
 * The contract of `TaskBackend`: every backend passes these same tests. `makeFixture` gives a
 * fresh, empty storage for each test.
 */
export function describeBackendConformance(
  name: string,
  makeFixture: () => Promise<BackendFixture>,
  capabilities: BackendCapabilities = EVERY_CAPABILITY,
): void {
  const fairSharingIt = capabilities.fairSharing ? it : undefined;
  const rateLimitIt = capabilities.rateLimit ? it : undefined;
  const tenantMaxInFlightIt = capabilities.tenantMaxInFlight ? it : undefined;
  describe(`TaskBackend conformance: ${name}`, () => {
    let fixture: BackendFixture;
    const open: TaskBackend[] = [];

    async function backendWith(settings: Partial<BackendSettings> = {}) {
      fixture ??= await makeFixture();
      const made = fixture.create({ ...DEFAULTS, ...settings });
      await made.backend.open();
      open.push(made.backend);
      return made;
    }

    async function started(settings: Partial<BackendSettings> = {}) {
      const made = await backendWith(settings);
      const processor = new ScriptedProcessor();
      made.backend.start(processor.process);
      return { ...made, processor };
    }

    afterEach(async () => {
      for (const backend of open.splice(0)) await backend.close().catch(() => undefined);
      await fixture?.dispose();
      fixture = undefined as unknown as BackendFixture;
    });

    describe('admission and the queue', () => {
      it('admits tasks pending, in order, with their place in line', async () => {
        const { backend } = await backendWith();
        const ids = await admitMany(backend, fixture.clock.now(), 3);
        for (const [index, id] of ids.entries()) {
          expect(await backend.get(id)).toMatchObject({
            id,
            status: 'pending',
            attempts: 0,
            startedAt: null,
            completedAt: null,
            result: null,
            error: null,
            queuePosition: index + 1,
          });
        }
        expect(await backend.counts()).toMatchObject({
          pending: 3,
          total: 3,
          queued: 3,
          inFlight: 0,
        });
      });

      it('refuses a task when the queue is full, and admits again once there is room', async () => {
        const { backend, processor } = await started({ concurrency: 1, maxQueueSize: 2 });
        const [first] = await admitMany(backend, fixture.clock.now(), 3);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const refused = await backend.admit(newTask(fixture.clock.now()));
        expect(refused).toEqual({ ok: false, reason: 'queue_full', queued: 2 });
        processor.complete(first as string);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        expect((await backend.admit(newTask(fixture.clock.now()))).ok).toBe(true);
        expect((await backend.counts()).total).toBe(4);
      });

      it('never overfills the queue under a concurrent burst of admissions', async () => {
        const { backend } = await backendWith({ maxQueueSize: 5 });
        const answers = await Promise.all(
          Array.from({ length: 40 }, () => backend.admit(newTask(fixture.clock.now()))),
        );
        expect(answers.filter((answer) => answer.ok)).toHaveLength(5);
        expect(await backend.counts()).toMatchObject({ pending: 5, total: 5, queued: 5 });
      });

      it('keeps the request exactly as submitted, before and after the call', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const task = newTask(fixture.clock.now(), 'bytes');
        await backend.admit(task);
        const check = async () => {
          const request = await backend.getRequest(task.id);
          expect(request?.method).toBe('POST');
          expect(request?.path).toBe(task.request.path);
          expect(unpackHeaders(request?.headers ?? ('' as never))).toEqual(
            unpackHeaders(task.request.headers),
          );
          expect([...bytesOf(request?.body ?? ('' as never))]).toEqual([0, 1, 2, 255, 254, 10, 13]);
        };
        await check();
        await vi.waitFor(() => expect(processor.running.has(task.id)).toBe(true));
        expect([...bytesOf(processor.jobs[0]?.request.body ?? ('' as never))]).toEqual([
          0, 1, 2, 255, 254, 10, 13,
        ]);
        processor.complete(task.id);
        await vi.waitFor(async () =>
          expect((await backend.get(task.id))?.status).toBe('completed'),
        );
        await check();
      });
    });

    describe('running tasks', () => {
      it('starts tasks in admission order and never more at once than the concurrency', async () => {
        const { backend, processor } = await started({ concurrency: 3 });
        const ids = await admitMany(backend, fixture.clock.now(), 12);
        for (let done = 0; done < ids.length; done++) {
          await vi.waitFor(() =>
            expect(processor.running.size).toBe(Math.min(3, ids.length - done)),
          );
          const oldest = [...processor.running.keys()][0] as string;
          processor.complete(oldest);
        }
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(12));
        expect(processor.startedIds()).toEqual(ids);
        expect(processor.maxRunning).toBe(3);
        expect(processor.jobs.every((job) => job.attempt === 1)).toBe(true);
      });

      it('moves a task pending → processing → completed with its times and result', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const createdAt = fixture.clock.now();
        const [id] = await admitMany(backend, createdAt, 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        fixture.clock.advance(250);
        expect(await backend.get(id as string)).toMatchObject({
          status: 'processing',
          startedAt: createdAt,
          attempts: 1,
          queuePosition: null,
        });
        expect(await backend.counts()).toMatchObject({
          processing: 1,
          inFlight: 1,
          queued: 0,
          inFlightStartedAt: [createdAt],
        });
        processor.complete(id as string, completed('hello'));
        await vi.waitFor(async () =>
          expect(await backend.get(id as string)).toMatchObject({
            status: 'completed',
            completedAt: createdAt + 250,
            result: {
              statusCode: 200,
              body: 'hello',
              encoding: 'text',
              bodyBytes: 5,
              headers: { 'content-type': 'text/plain' },
            },
            error: null,
          }),
        );
        expect(await backend.counts()).toMatchObject({
          completed: 1,
          inFlight: 0,
          inFlightStartedAt: [],
        });
      });

      it('counts when each call in flight started, the earliest first', async () => {
        const { backend, processor } = await started({ concurrency: 3 });
        const first = fixture.clock.now();
        await admitMany(backend, first, 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        fixture.clock.advance(400);
        await admitMany(backend, first + 400, 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(2));
        fixture.clock.advance(100);
        expect((await backend.counts()).inFlightStartedAt).toEqual([first, first + 400]);
      });

      it('keeps a binary result byte for byte, and a failure with its error', async () => {
        const { backend, processor } = await started({ concurrency: 2 });
        const [a, b] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(() => expect(processor.running.size).toBe(2));
        const bytes = Buffer.from([0, 255, 128, 7, 0]);
        processor.complete(a as string, binaryResult(bytes));
        processor.complete(b as string, completed('nope', 503));
        await vi.waitFor(async () => expect((await backend.counts()).failed).toBe(1));
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        const binary = await backend.get(a as string);
        expect(Buffer.isBuffer(binary?.result?.body)).toBe(true);
        expect([...((binary?.result?.body ?? Buffer.alloc(0)) as Buffer)]).toEqual([...bytes]);
        expect(await backend.get(b as string)).toMatchObject({
          status: 'failed',
          result: { statusCode: 503, body: 'nope' },
          error: { code: 'upstream_status' },
        });
      });

      it('gives back long text and JSON results exactly, multi-byte characters included', async () => {
        const { backend, processor } = await started({ concurrency: 50 });
        const bodies = Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0
            ? `line ${i}: Zoë in Kraków, 日本語, 🚀 `.repeat(10 + i * 10)
            : JSON.stringify({ i, name: 'Zoë', items: Array.from({ length: i * 5 }, (_, n) => n) }),
        );
        bodies.push('long '.repeat(5_000));
        const ids = await admitMany(backend, fixture.clock.now(), bodies.length);
        await vi.waitFor(() => expect(processor.running.size).toBe(bodies.length));
        ids.forEach((id, n) => {
          const body = bodies[n] as string;
          const outcome = completed(body);
          if (n % 2 === 1 && outcome.result) {
            outcome.result.encoding = 'json';
            outcome.result.headers = { 'content-type': 'application/json' };
          }
          processor.complete(id, outcome);
        });
        await vi.waitFor(async () =>
          expect((await backend.counts()).completed).toBe(bodies.length),
        );
        for (const [n, id] of ids.entries()) {
          const task = await backend.get(id);
          expect(task?.result?.body).toBe(bodies[n]);
          expect(task?.result?.bodyBytes).toBe(Buffer.byteLength(bodies[n] as string));
          expect(task?.result?.encoding).toBe(n % 2 === 1 && n < 40 ? 'json' : 'text');
        }
      });

      it('keeps a text result holding NUL characters whole', async () => {
        // UTF-8 text may hold NULs (a text/plain log, a C string): SQLite's text ends at the first.
        const { backend, processor } = await started({ concurrency: 1 });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const body = 'before\0after\0\0é';
        processor.complete(id as string, completed(body));
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        const task = await backend.get(id as string);
        expect(task?.result).toMatchObject({ body, encoding: 'text' });
      });

      /** Two calls running under a long-task threshold of 1 s. */
      async function twoCallsRunning() {
        const { backend, processor } = await started({
          concurrency: 2,
          longTaskThresholdMs: 1_000,
        });
        const [slow, quick] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(() => expect(processor.running.size).toBe(2));
        return { backend, processor, slow, quick };
      }

      it('marks a task long when its call took longer than the threshold', async () => {
        const { backend, processor, slow, quick } = await twoCallsRunning();
        processor.complete(quick as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        fixture.clock.advance(1_500);
        expect((await backend.counts()).long).toBe(1);
        processor.complete(slow as string);
        await vi.waitFor(async () =>
          expect((await backend.get(slow as string))?.isLong).toBe(true),
        );
        expect((await backend.get(quick as string))?.isLong).toBe(false);
        expect((await backend.counts()).long).toBe(1);
      });

      // UI pass: a call cancelled after running past the threshold ended not long.
      it('keeps a cancelled call long when it ran longer than the threshold', async () => {
        const { backend, slow, quick } = await twoCallsRunning();
        expect(await backend.cancel(quick as string)).toMatchObject({
          task: { status: 'cancelled', isLong: false },
        });
        fixture.clock.advance(1_500);
        expect(await backend.cancel(slow as string)).toMatchObject({
          task: { status: 'cancelled', isLong: true },
        });
        expect((await backend.counts()).long).toBe(1);
      });

      it('gives queue positions that follow the line as tasks start', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const ids = await admitMany(backend, fixture.clock.now(), 4);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        expect((await backend.get(ids[3] as string))?.queuePosition).toBe(3);
        processor.complete(ids[0] as string);
        await vi.waitFor(async () =>
          expect((await backend.get(ids[3] as string))?.queuePosition).toBe(2),
        );
        expect((await backend.get(ids[1] as string))?.queuePosition).toBeNull();
      });

      it('finishes a task once: a call that ends twice changes nothing the second time', async () => {
        const { backend } = await backendWith({ concurrency: 1 });
        let ends = 0;
        backend.start(async () => {
          ends++;
          return completed('first');
        });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(async () =>
          expect((await backend.get(id as string))?.status).toBe('completed'),
        );
        expect(ends).toBe(1);
        expect((await backend.get(id as string))?.result?.body).toBe('first');
      });

      it('fails a task whose processor throws, and goes on with the next', async () => {
        const { backend } = await backendWith({ concurrency: 1 });
        let calls = 0;
        backend.start(async () => {
          calls++;
          if (calls === 1) throw new Error('boom');
          return completed('ok');
        });
        const [first, second] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(async () =>
          expect((await backend.get(second as string))?.status).toBe('completed'),
        );
        expect(await backend.get(first as string)).toMatchObject({
          status: 'failed',
          error: { code: 'upstream_error' },
        });
      });
    });

    describe('reading', () => {
      it('lists newest first, pages, filters by status, and leaves result bodies out', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const ids = await admitMany(backend, fixture.clock.now(), 5);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(ids[0] as string, completed('x'.repeat(300)));
        await vi.waitFor(() => expect(processor.running.has(ids[1] as string)).toBe(true));

        const all = await backend.list({ limit: 3, offset: 0 });
        expect(all.total).toBe(5);
        expect(all.tasks.map((task) => task.id)).toEqual([ids[4], ids[3], ids[2]]);
        const rest = await backend.list({ limit: 3, offset: 3 });
        expect(rest.tasks.map((task) => task.id)).toEqual([ids[1], ids[0]]);
        expect((await backend.list({ limit: 3, offset: 5 })).tasks).toEqual([]);

        const done = await backend.list({ status: 'completed', limit: 10, offset: 0 });
        expect(done.total).toBe(1);
        expect(done.tasks[0]?.result).toEqual({
          statusCode: 200,
          headers: { 'content-type': 'text/plain' },
          encoding: 'text',
          bodyBytes: 300,
        });
        const pending = await backend.list({ status: 'pending', limit: 10, offset: 0 });
        expect(pending.tasks.map((task) => [task.id, task.queuePosition])).toEqual([
          [ids[4], 3],
          [ids[3], 2],
          [ids[2], 1],
        ]);
        expect((await backend.list({ status: 'processing', limit: 10, offset: 0 })).total).toBe(1);
      });

      it('lists a status newest first by when tasks entered it', async () => {
        const { backend, processor } = await started({ concurrency: 3 });
        const [a, b, c] = await admitMany(backend, fixture.clock.now(), 3);
        await vi.waitFor(() => expect(processor.running.size).toBe(3));
        processor.complete(c as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        processor.complete(a as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(2));
        processor.complete(b as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(3));
        const page = await backend.list({ status: 'completed', limit: 10, offset: 0 });
        expect(page.tasks.map((task) => task.id)).toEqual([b, a, c]);
      });

      it('hands out copies: changing a record changes nothing in the store', async () => {
        const { backend } = await backendWith();
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const record = (await backend.get(id as string)) as { status: string };
        record.status = 'completed';
        expect((await backend.get(id as string))?.status).toBe('pending');
      });

      it('answers undefined for a task it does not hold', async () => {
        const { backend } = await backendWith();
        expect(await backend.get('00000000-0000-4000-8000-ffffffffffff')).toBeUndefined();
        expect(await backend.getRequest('00000000-0000-4000-8000-ffffffffffff')).toBeUndefined();
      });
    });

    describe('waiting for a finish', () => {
      it('resolves when the task finishes, at once when it already has, undefined when unknown', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const waiting = backend.waitForFinish(id as string, new AbortController().signal);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id as string, completed('done'));
        expect(await waiting).toMatchObject({ id, status: 'completed', result: { body: 'done' } });
        expect(
          await backend.waitForFinish(id as string, new AbortController().signal),
        ).toMatchObject({ status: 'completed' });
        expect(
          await backend.waitForFinish(
            '00000000-0000-4000-8000-ffffffffffff',
            new AbortController().signal,
          ),
        ).toBeUndefined();
      });

      it('rejects with the reason when its signal aborts, and a later finish finds no waiter', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const abort = new AbortController();
        const waiting = backend.waitForFinish(id as string, abort.signal);
        abort.abort(new Error('client left'));
        await expect(waiting).rejects.toThrow('client left');
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id as string);
        await vi.waitFor(async () =>
          expect((await backend.get(id as string))?.status).toBe('completed'),
        );
      });

      it('releases a thousand waiters with one burst of finishes', async () => {
        const { backend, processor } = await started({ concurrency: 50 });
        const ids = await admitMany(backend, fixture.clock.now(), 50);
        const waits = ids.flatMap((id) =>
          Array.from({ length: 20 }, () => backend.waitForFinish(id, new AbortController().signal)),
        );
        await vi.waitFor(() => expect(processor.running.size).toBe(50));
        for (const id of ids) processor.complete(id);
        const finished = await Promise.all(waits);
        expect(finished.every((task) => task?.status === 'completed')).toBe(true);
      });
    });

    describe('events', () => {
      it('tells created, started and finished in order, and nothing after unsubscribing', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const seen: TaskEvent[] = [];
        const subscription = backend.subscribe((event) => seen.push(event));
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id as string);
        await vi.waitFor(() => expect(seen.map((event) => event.type)).toContain('finished'));
        const transitions = seen.flatMap((event) =>
          event.type === 'removed' ? [] : [[event.type, event.task.status, event.local]],
        );
        expect(transitions).toEqual([
          ['created', 'pending', true],
          ['started', 'processing', true],
          ['finished', 'completed', true],
        ]);
        subscription.close();
        await admitMany(backend, fixture.clock.now(), 1);
        expect(seen).toHaveLength(3);
        expect(backend.listenerCounts().subscribers).toBe(0);
      });
    });

    describe('retention', () => {
      it('removes only finished tasks that finished at or before the cutoff', async () => {
        const { backend, processor } = await started({ concurrency: 3 });
        const t0 = fixture.clock.now();
        const [old, recent, running] = await admitMany(backend, t0, 3);
        const [queued] = await admitMany(backend, t0, 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(3));
        processor.complete(old as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        fixture.clock.advance(1_000);
        processor.complete(recent as string, completed('bad', 500));
        await vi.waitFor(async () => expect((await backend.counts()).failed).toBe(1));

        expect(await backend.removeFinished(t0 + 500)).toBe(1);
        expect(await backend.get(old as string)).toBeUndefined();
        expect(await backend.get(recent as string)).toBeDefined();
        expect(await backend.get(running as string)).toBeDefined();
        expect(await backend.get(queued as string)).toBeDefined();
        // `queued` took the slot `old` freed.
        expect(await backend.counts()).toMatchObject({
          completed: 0,
          failed: 1,
          processing: 2,
          pending: 0,
          total: 3,
        });
        expect(await backend.removeFinished(t0 + 1_000)).toBe(1);
        expect((await backend.list({ limit: 10, offset: 0 })).total).toBe(2);
      });
    });

    describe('delivery policy', () => {
      const policy = (overrides: Partial<TaskPolicy>): TaskPolicy => ({
        ...DEFAULT_POLICY,
        ...overrides,
      });
      const admitWith = async (
        backend: TaskBackend,
        overrides: Partial<TaskPolicy>,
        label?: string,
      ) => {
        const task = newTask(fixture.clock.now(), label, { policy: policy(overrides) });
        const answer = await backend.admit(task);
        if (!answer.ok) throw new Error(`refused: ${answer.reason}`);
        return task.id;
      };
      const failure = (statusCode: number, retryAfterMs: number | null = null): TaskOutcome => ({
        ...completed('busy', statusCode),
        retryAfterMs,
      });
      const reset: TaskOutcome = {
        status: 'failed',
        result: null,
        error: { code: 'upstream_reset', message: 'reset' },
      };

      it('keeps the retry of a call that fails during the shutdown grace for the next start', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set() },
          minDelayMs: 100,
          maxDelayMs: 100,
        });
        const first = await started({ concurrency: 1, retry });
        const id = await admitWith(first.backend, { maxAttempts: 3 });
        await vi.waitFor(() => expect(first.processor.running.size).toBe(1));
        const t0 = fixture.clock.now();
        const stopped = first.backend.stop(5_000);
        first.processor.complete(id, failure(503, 2_000));
        await stopped;
        if (!fixture.durable) {
          // Nothing outlives the process: the call's answer is the task's end.
          expect(await first.backend.get(id)).toMatchObject({ status: 'failed', attempts: 1 });
          return;
        }
        // A deploy is no reason to give up on a task with attempts left.
        expect(await first.backend.get(id)).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: t0 + 2_000,
        });
        await first.backend.close();
        const second = fixture.create({ ...DEFAULTS, concurrency: 1, retry });
        open.push(second.backend);
        await second.backend.open();
        const processor = new ScriptedProcessor();
        second.backend.start(processor.process);
        fixture.clock.advance(2_000);
        await vi.waitFor(() => expect(processor.jobs.at(-1)?.attempt).toBe(2));
      });

      it('retries what it is told to, after Retry-After or a backoff, and keeps every attempt', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set(['upstream_reset']) },
          minDelayMs: 100,
          maxDelayMs: 1_000,
          random: () => 0.75,
        });
        const { backend, processor } = await started({ concurrency: 1, retry });
        const seen: string[] = [];
        backend.subscribe((event) => {
          if (event.type !== 'removed') seen.push(event.type);
        });
        const t0 = fixture.clock.now();
        const id = await admitWith(backend, { maxAttempts: 3 });
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id, failure(503, 2_000));
        await vi.waitFor(async () =>
          expect(await backend.get(id)).toMatchObject({
            status: 'pending',
            attempts: 1,
            nextAttemptAt: t0 + 2_000,
            queuePosition: null,
          }),
        );
        expect((await backend.counts()).retrying).toBe(1);
        fixture.clock.advance(1_999);
        expect(processor.running.size).toBe(0);
        fixture.clock.advance(1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        expect(processor.jobs.at(-1)?.attempt).toBe(2);
        processor.complete(id, reset);
        // Backoff after two calls: between 100 and min(1000, 100 × 2²), 0.75 of the way.
        await vi.waitFor(async () =>
          expect((await backend.get(id))?.nextAttemptAt).toBe(t0 + 2_000 + 325),
        );
        fixture.clock.advance(324);
        expect(processor.running.size).toBe(0);
        fixture.clock.advance(1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id, completed('third time'));
        await vi.waitFor(async () => expect((await backend.get(id))?.status).toBe('completed'));
        const task = await backend.get(id);
        expect(task).toMatchObject({
          attempts: 3,
          result: { body: 'third time' },
          nextAttemptAt: null,
        });
        expect(
          task?.attemptLog.map((attempt) => [
            attempt.attempt,
            attempt.outcome,
            attempt.statusCode,
            attempt.errorCode,
            attempt.retryAt,
          ]),
        ).toEqual([
          [1, 'failed', 503, 'upstream_status', t0 + 2_000],
          [2, 'failed', null, 'upstream_reset', t0 + 2_325],
          [3, 'completed', 200, null, null],
        ]);
        expect(seen.filter((type) => type === 'retrying')).toHaveLength(2);
      });

      it('shows a retry its place in line once it is due and waits for a slot', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set() },
          minDelayMs: 100,
          maxDelayMs: 100,
          random: () => 1,
        });
        const { backend, processor } = await started({ concurrency: 1, retry });
        const again = await admitWith(backend, { maxAttempts: 2 });
        await vi.waitFor(() => expect(processor.running.has(again)).toBe(true));
        const other = await admitWith(backend, {});
        processor.complete(again, failure(503, 100));
        await vi.waitFor(() => expect(processor.running.has(other)).toBe(true));
        expect(await backend.get(again)).toMatchObject({ status: 'pending', queuePosition: null });
        fixture.clock.advance(100);
        // Review: on the local backends it stayed null until it started, as if not queued.
        await vi.waitFor(async () =>
          expect(await backend.get(again)).toMatchObject({ status: 'pending', queuePosition: 1 }),
        );
        const listed = await backend.list({ status: 'pending', limit: 10, offset: 0 });
        expect(listed.tasks.map((task) => [task.id, task.queuePosition])).toEqual([[again, 1]]);
        processor.complete(other, completed('done'));
        await vi.waitFor(() => expect(processor.running.has(again)).toBe(true));
      });

      it('stops retrying after the last attempt, and never retries what it was not told to', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set() },
          minDelayMs: 10,
          maxDelayMs: 10,
          random: () => 0,
        });
        const { backend, processor } = await started({ concurrency: 2, retry });
        const twice = await admitWith(backend, { maxAttempts: 2 });
        const other = await admitWith(backend, { maxAttempts: 5 });
        await vi.waitFor(() => expect(processor.running.size).toBe(2));
        processor.complete(other, failure(500));
        processor.complete(twice, failure(503));
        await vi.waitFor(async () => expect((await backend.get(other))?.status).toBe('failed'));
        fixture.clock.advance(10);
        await vi.waitFor(() => expect(processor.running.has(twice)).toBe(true));
        processor.complete(twice, failure(503));
        await vi.waitFor(async () =>
          expect(await backend.get(twice)).toMatchObject({ status: 'failed', attempts: 2 }),
        );
        expect((await backend.get(other))?.attempts).toBe(1);
      });

      it('expires a queued task at its deadline, never one that started in time', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const now = fixture.clock.now();
        const first = await admitWith(backend, { deadlineAt: now + 1_000 });
        const late = await admitWith(backend, { deadlineAt: now + 1_000 });
        await vi.waitFor(() => expect(processor.running.has(first)).toBe(true));
        fixture.clock.advance(1_000);
        await vi.waitFor(async () =>
          expect(await backend.get(late)).toMatchObject({
            status: 'expired',
            startedAt: null,
            error: { code: 'expired' },
          }),
        );
        expect((await backend.get(first))?.status).toBe('processing');
        processor.complete(first);
        await vi.waitFor(async () => expect((await backend.get(first))?.status).toBe('completed'));
        expect(processor.startedIds()).toEqual([first]);
        expect((await backend.counts()).expired).toBe(1);
      });

      // Review: on Redis the start script checked the deadline of every pending task, so a
      // retry waiting in line for a free slot expired at the deadline of its first start.
      it('runs a retry that waits in line past the deadline: the task started in time', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set() },
          minDelayMs: 100,
          maxDelayMs: 1_000,
          random: () => 0.5,
        });
        const { backend, processor } = await started({ concurrency: 1, retry });
        const id = await admitWith(backend, {
          maxAttempts: 2,
          deadlineAt: fixture.clock.now() + 1_000,
        });
        await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
        const other = await admitWith(backend, {});
        processor.complete(id, failure(503, 100));
        await vi.waitFor(() => expect(processor.running.has(other)).toBe(true));
        // The retry joins the line behind the call in flight, then its first deadline passes.
        fixture.clock.advance(100);
        fixture.clock.advance(1_000);
        processor.complete(other);
        await vi.waitFor(() => expect(processor.running.has(id)).toBe(true));
        processor.complete(id);
        await vi.waitFor(async () =>
          expect(await backend.get(id)).toMatchObject({ status: 'completed', attempts: 2 }),
        );
        expect((await backend.counts()).expired).toBe(0);
      });

      // Review: the local backend queued a requeued task with its deadline again, so a restart
      // after that deadline expired a task that had started in time.
      it.each([
        ['a crash', (backend: TaskBackend) => fixture.crash(backend)],
        [
          'a stop',
          async (backend: TaskBackend) => {
            await backend.stop(0);
            await backend.close();
          },
        ],
      ])(
        'runs a call cut off by %s again after a restart past its deadline: it started in time',
        async (_how, cutOff) => {
          const first = await started({ concurrency: 1, maxRequeues: 3 });
          const id = await admitWith(first.backend, { deadlineAt: fixture.clock.now() + 1_000 });
          await vi.waitFor(() => expect(first.processor.running.has(id)).toBe(true));
          await cutOff(first.backend);
          fixture.clock.advance(5_000);

          const second = fixture.create({ ...DEFAULTS, concurrency: 1, maxRequeues: 3 });
          open.push(second.backend);
          const report = await second.backend.open();
          if (!fixture.durable) return;
          expect(report.pending + report.requeued).toBe(1);
          const processor = new ScriptedProcessor();
          processor.autoOutcome = completed('again');
          second.backend.start(processor.process);
          await vi.waitFor(async () =>
            expect(await second.backend.get(id)).toMatchObject({
              status: 'completed',
              attempts: 2,
            }),
          );
          expect((await second.backend.counts()).expired).toBe(0);
        },
      );

      it('serves high before normal before low, FIFO within a level, and says so in positions', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const blocker = await admitWith(backend, {});
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const low = await admitWith(backend, { priority: 'low' });
        const normal = await admitWith(backend, { priority: 'normal' });
        const high = await admitWith(backend, { priority: 'high' });
        const normal2 = await admitWith(backend, { priority: 'normal' });
        const positions = await Promise.all(
          [high, normal, normal2, low].map(async (id) => (await backend.get(id))?.queuePosition),
        );
        expect(positions).toEqual([1, 2, 3, 4]);
        processor.autoOutcome = completed('x');
        processor.complete(blocker);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(5));
        expect(processor.startedIds()).toEqual([blocker, high, normal, normal2, low]);
      });

      it('sheds the newest task of the lowest level for a higher one when the queue is full', async () => {
        const { backend, processor } = await started({ concurrency: 1, maxQueueSize: 2 });
        await admitWith(backend, {});
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const lowA = await admitWith(backend, { priority: 'low' });
        const lowB = await admitWith(backend, { priority: 'low' });
        const high = await admitWith(backend, { priority: 'high' });
        expect(await backend.get(lowB)).toMatchObject({
          status: 'failed',
          error: { code: 'shed' },
        });
        const normal = await admitWith(backend, { priority: 'normal' });
        expect(await backend.get(lowA)).toMatchObject({
          status: 'failed',
          error: { code: 'shed' },
        });
        expect(
          await backend.admit(
            newTask(fixture.clock.now(), 'low', { policy: policy({ priority: 'low' }) }),
          ),
        ).toMatchObject({
          ok: false,
          reason: 'queue_full',
        });
        expect(
          await backend.admit(
            newTask(fixture.clock.now(), 'n', { policy: policy({ priority: 'normal' }) }),
          ),
        ).toMatchObject({
          ok: false,
          reason: 'queue_full',
        });
        expect((await backend.get(high))?.queuePosition).toBe(1);
        expect((await backend.get(normal))?.queuePosition).toBe(2);
      });

      // Review: on Redis the admit script shed the newest pending task of the lowest level, and a
      // failed call put back to wait for its retry is the newest of its level: a task with
      // attempts left was shed instead of one that never ran. The local scheduler keeps retries
      // aside (they count as queued, and are never shed).
      it('never sheds a task that waits for its retry; full when only such a task is below', async () => {
        const retry = retryPolicy({
          retryOn: { statuses: new Set([503]), errors: new Set() },
          minDelayMs: 60_000,
          maxDelayMs: 60_000,
        });
        const { backend, processor } = await started({ concurrency: 1, maxQueueSize: 2, retry });
        const waiting = await admitWith(backend, { priority: 'low', maxAttempts: 3 });
        await vi.waitFor(() => expect(processor.running.has(waiting)).toBe(true));
        const low = await admitWith(backend, { priority: 'low' });
        const normal = await admitWith(backend, { priority: 'normal' });
        processor.complete(waiting, failure(503, 60_000));
        await vi.waitFor(() => expect(processor.running.has(normal)).toBe(true));
        expect(await backend.get(waiting)).toMatchObject({ status: 'pending', attempts: 1 });
        // Full: `low` and the retry (put back after it) are queued. A high task sheds `low`.
        const high = await admitWith(backend, { priority: 'high' });
        expect(await backend.get(low)).toMatchObject({ status: 'failed', error: { code: 'shed' } });
        expect(await backend.get(waiting)).toMatchObject({
          status: 'pending',
          attempts: 1,
          nextAttemptAt: expect.any(Number),
          error: null,
        });
        // Below a high task now only the retry waits: nothing to shed, the queue is full.
        expect(
          await backend.admit(
            newTask(fixture.clock.now(), 'high2', { policy: policy({ priority: 'high' }) }),
          ),
        ).toMatchObject({ ok: false, reason: 'queue_full', queued: 2 });
        expect((await backend.get(high))?.queuePosition).toBe(1);
        expect((await backend.get(waiting))?.status).toBe('pending');
        expect((await backend.counts()).retrying).toBe(1);
      });

      it('sheds nothing for a task the store has no room for (--max-tasks, none finished)', async () => {
        const { backend, processor } = await started({
          concurrency: 1,
          maxQueueSize: 1,
          maxTasks: 2,
        });
        await admitWith(backend, {});
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const low = await admitWith(backend, { priority: 'low' });
        expect(
          await backend.admit(
            newTask(fixture.clock.now(), 'high', { policy: policy({ priority: 'high' }) }),
          ),
        ).toMatchObject({ ok: false, reason: 'tasks_full' });
        expect(await backend.get(low)).toMatchObject({ status: 'pending', queuePosition: 1 });
        expect((await backend.counts()).total).toBe(2);
      });

      fairSharingIt?.(
        'serves tenants in turn, so one tenant’s burst does not starve another',
        async () => {
          const { backend, processor } = await started({ concurrency: 1 });
          const a = [await admitWith(backend, { tenant: 'A' }, 'a0')];
          await vi.waitFor(() => expect(processor.running.size).toBe(1));
          for (let n = 1; n < 5; n++) a.push(await admitWith(backend, { tenant: 'A' }, `a${n}`));
          const b = [
            await admitWith(backend, { tenant: 'B' }, 'b0'),
            await admitWith(backend, { tenant: 'B' }, 'b1'),
          ];
          // A's first started before B arrived; from then on the two take turns.
          expect((await backend.get(b[0] as string))?.queuePosition).toBe(2);
          expect((await backend.get(b[1] as string))?.queuePosition).toBe(4);
          expect((await backend.get(a[4] as string))?.queuePosition).toBe(6);
          processor.autoOutcome = completed('x');
          processor.complete(a[0] as string);
          await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(7));
          expect(processor.startedIds()).toEqual([a[0], a[1], b[0], a[2], b[1], a[3], a[4]]);
          const counts = await backend.counts();
          expect(counts.tenants).toEqual([]);
        },
      );

      fairSharingIt?.(
        'caps one tenant’s queued tasks without touching the others, and counts each tenant',
        async () => {
          const { backend, processor } = await started({ concurrency: 1, tenantMaxQueued: 2 });
          const a1 = await admitWith(backend, { tenant: 'A' });
          await vi.waitFor(() => expect(processor.running.size).toBe(1));
          await admitWith(backend, { tenant: 'A' });
          await admitWith(backend, { tenant: 'A' });
          expect(
            await backend.admit(
              newTask(fixture.clock.now(), 'a', { policy: policy({ tenant: 'A' }) }),
            ),
          ).toMatchObject({ ok: false, reason: 'tenant_queue_full', queued: 2 });
          // A task without the tenant header is the tenant '', with a share of its own.
          const none = await admitWith(backend, { tenant: '' });
          expect(await backend.get(none)).toMatchObject({ tenant: '' });
          expect((await backend.counts()).tenants).toEqual([
            { tenant: 'A', queued: 2, inFlight: 1 },
            { tenant: '', queued: 1, inFlight: 0 },
          ]);
          processor.autoOutcome = completed('x');
          processor.complete(a1);
          await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(4));
          expect((await backend.counts()).tenants).toEqual([]);
        },
      );

      fairSharingIt?.(
        'caps one tenant’s queued tasks in a burst admitted all at once',
        async () => {
          // Not started, so none leaves the queue; every admission is made before any settles.
          const { backend } = await backendWith({ tenantMaxQueued: 2 });
          const burst = await Promise.all(
            [1, 2, 3, 4].map(() =>
              backend.admit(newTask(fixture.clock.now(), 'a', { policy: policy({ tenant: 'A' }) })),
            ),
          );
          expect(burst.map((answer) => (answer.ok ? 'ok' : answer.reason))).toEqual([
            'ok',
            'ok',
            'tenant_queue_full',
            'tenant_queue_full',
          ]);
          expect((await backend.counts()).tenants).toEqual([
            { tenant: 'A', queued: 2, inFlight: 0 },
          ]);
        },
      );

      fairSharingIt?.(
        'counts each tenant’s tasks through a shed, a cancel, an expiry and a retry, to none',
        async () => {
          const retry = retryPolicy({
            retryOn: { statuses: new Set([503]), errors: new Set() },
            minDelayMs: 100,
            maxDelayMs: 100,
            random: () => 1,
          });
          const { backend, processor } = await started({ concurrency: 1, maxQueueSize: 3, retry });
          const tenants = async () => (await backend.counts()).tenants;
          const blocker = await admitWith(backend, { tenant: 'C', maxAttempts: 2 });
          await vi.waitFor(() => expect(processor.running.has(blocker)).toBe(true));
          const low = await admitWith(backend, { tenant: 'A', priority: 'low' });
          const late = await admitWith(backend, {
            tenant: 'B',
            deadlineAt: fixture.clock.now() + 1_000,
          });
          const cancelled = await admitWith(backend, { tenant: 'C' });
          const high = await admitWith(backend, { tenant: 'B', priority: 'high' });
          expect(await backend.get(low)).toMatchObject({
            status: 'failed',
            error: { code: 'shed' },
          });
          await backend.cancel(cancelled);
          fixture.clock.advance(1_000);
          await vi.waitFor(async () => expect((await backend.get(late))?.status).toBe('expired'));
          expect(await tenants()).toEqual([
            { tenant: 'B', queued: 1, inFlight: 0 },
            { tenant: 'C', queued: 0, inFlight: 1 },
          ]);
          processor.complete(blocker, failure(503, 100));
          await vi.waitFor(() => expect(processor.running.has(high)).toBe(true));
          await vi.waitFor(async () =>
            expect(await tenants()).toEqual([
              { tenant: 'C', queued: 1, inFlight: 0 },
              { tenant: 'B', queued: 0, inFlight: 1 },
            ]),
          );
          processor.autoOutcome = completed('x');
          processor.complete(high);
          fixture.clock.advance(100);
          await vi.waitFor(async () =>
            expect(await backend.get(blocker)).toMatchObject({ status: 'completed', attempts: 2 }),
          );
          expect(await tenants()).toEqual([]);
        },
      );

      tenantMaxInFlightIt?.(
        'caps one tenant’s calls in flight and queued tasks without touching the others',
        async () => {
          const { backend, processor } = await started({
            concurrency: 3,
            tenantMaxInFlight: 1,
            tenantMaxQueued: 2,
          });
          const a1 = await admitWith(backend, { tenant: 'A' });
          await vi.waitFor(() => expect(processor.running.size).toBe(1));
          await admitWith(backend, { tenant: 'A' });
          await admitWith(backend, { tenant: 'A' });
          expect(
            await backend.admit(
              newTask(fixture.clock.now(), 'a', { policy: policy({ tenant: 'A' }) }),
            ),
          ).toMatchObject({
            ok: false,
            reason: 'tenant_queue_full',
            queued: 2,
          });
          const b1 = await admitWith(backend, { tenant: 'B' });
          await vi.waitFor(() => expect(processor.running.size).toBe(2));
          expect([...processor.running.keys()].sort()).toEqual([a1, b1].sort());
          expect((await backend.counts()).tenants).toEqual([
            { tenant: 'A', queued: 2, inFlight: 1 },
            { tenant: 'B', queued: 0, inFlight: 1 },
          ]);
          processor.complete(a1);
          await vi.waitFor(() => expect(processor.running.size).toBe(2));
        },
      );

      rateLimitIt?.('starts no more calls a second than the rate limit allows', async () => {
        const { backend, processor } = await started({
          concurrency: 10,
          rateLimit: { perSecond: 2, burst: 1 },
        });
        processor.autoOutcome = completed('x');
        await admitMany(backend, fixture.clock.now(), 5);
        await vi.waitFor(() => expect(processor.jobs).toHaveLength(1));
        fixture.clock.advance(499);
        expect(processor.jobs).toHaveLength(1);
        fixture.clock.advance(1);
        await vi.waitFor(() => expect(processor.jobs).toHaveLength(2));
        fixture.clock.advance(1_500);
        await vi.waitFor(() => expect(processor.jobs).toHaveLength(5));
      });

      const fairAndRateLimitIt =
        capabilities.tenantMaxInFlight && capabilities.rateLimit ? it : undefined;
      fairAndRateLimitIt?.(
        'spends no rate-limit token on a turn where every queued tenant is at its cap',
        async () => {
          const { backend, processor } = await started({
            concurrency: 10,
            tenantMaxInFlight: 1,
            rateLimit: { perSecond: 1, burst: 1 },
          });
          const a1 = await admitWith(backend, { tenant: 'A' });
          await vi.waitFor(() => expect(processor.startedIds()).toEqual([a1]));
          fixture.clock.advance(1_000);
          // A is at its cap: these wait, and start no call, so they must take no token.
          await admitWith(backend, { tenant: 'A' });
          await admitWith(backend, { tenant: 'A' });
          const b1 = await admitWith(backend, { tenant: 'B' });
          await vi.waitFor(() => expect(processor.startedIds()).toEqual([a1, b1]));
        },
      );

      // The crash pass: a restart delivered a queued task's callback as `task.pending`, and
      // none came when it finished.
      it('keeps a callback’s state with the task, and lists those of finished tasks still to deliver', async () => {
        const { backend, processor } = await started();
        const id = await admitWith(backend, { callbackUrl: 'https://hooks.example/done' });
        expect((await backend.get(id))?.callback).toEqual({
          url: 'https://hooks.example/done',
          state: 'pending',
          deliveries: [],
          nextAt: null,
        });
        await vi.waitFor(() => expect(processor.startedIds()).toEqual([id]));
        expect(await backend.pendingCallbacks()).toEqual([]);
        processor.complete(id);
        await vi.waitFor(async () => expect((await backend.get(id))?.status).toBe('completed'));
        const failedOnce = {
          url: 'https://hooks.example/done',
          state: 'pending' as const,
          deliveries: [{ attempt: 1, at: 5, ok: false, statusCode: 500, error: null }],
          nextAt: 1_000,
        };
        expect(await backend.setCallback(id, failedOnce)).toBe(true);
        expect((await backend.get(id))?.callback).toEqual(failedOnce);
        expect(await backend.pendingCallbacks()).toEqual(
          fixture.durable ? [{ id, callback: failedOnce }] : [],
        );
        await backend.setCallback(id, { ...failedOnce, state: 'delivered', nextAt: null });
        expect(await backend.pendingCallbacks()).toEqual([]);
        expect(await backend.setCallback('00000000-0000-4000-8000-ffffffffffff', failedOnce)).toBe(
          false,
        );
      });

      // An operator whose receiver was down saw nothing pile up: /stats counted callbacks only
      // once they ended.
      it('counts the callbacks still to deliver, from their task’s finish to their end', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const url = 'https://hooks.example/done';
        const [running, queued] = [
          await admitWith(backend, { callbackUrl: url }),
          await admitWith(backend, { callbackUrl: url }),
        ];
        await admitWith(backend, {});
        await vi.waitFor(() => expect(processor.startedIds()).toEqual([running]));
        expect((await backend.counts()).callbacksPending).toBe(0);
        processor.complete(running);
        await vi.waitFor(async () => expect((await backend.counts()).callbacksPending).toBe(1));
        const failedOnce = {
          url,
          state: 'pending' as const,
          deliveries: [{ attempt: 1, at: 5, ok: false, statusCode: 500, error: null }],
          nextAt: 1_000,
        };
        await backend.setCallback(running, failedOnce);
        expect((await backend.counts()).callbacksPending).toBe(1);
        // A cancel finishes a queued task: its callback is due too.
        expect((await backend.cancel(queued)).ok).toBe(true);
        await vi.waitFor(async () => expect((await backend.counts()).callbacksPending).toBe(2));
        await backend.setCallback(running, { ...failedOnce, state: 'delivered', nextAt: null });
        await backend.setCallback(queued, { ...failedOnce, state: 'failed', nextAt: null });
        expect((await backend.counts()).callbacksPending).toBe(0);
      });

      it('stops counting a callback still to deliver once retention removes its task', async () => {
        const { backend, processor } = await started();
        const id = await admitWith(backend, { callbackUrl: 'https://hooks.example/done' });
        await vi.waitFor(() => expect(processor.startedIds()).toEqual([id]));
        processor.complete(id);
        await vi.waitFor(async () => expect((await backend.counts()).callbacksPending).toBe(1));
        fixture.clock.advance(10);
        expect(await backend.removeFinished(fixture.clock.now())).toBe(1);
        expect((await backend.counts()).callbacksPending).toBe(0);
      });

      it('stops counting a callback still to deliver once --max-tasks makes room over its task', async () => {
        const { backend, processor } = await started({ maxTasks: 1 });
        const id = await admitWith(backend, { callbackUrl: 'https://hooks.example/done' });
        await vi.waitFor(() => expect(processor.startedIds()).toEqual([id]));
        processor.complete(id);
        await vi.waitFor(async () => expect((await backend.counts()).callbacksPending).toBe(1));
        await admitWith(backend, {});
        expect(await backend.get(id)).toBeUndefined();
        expect((await backend.counts()).callbacksPending).toBe(0);
      });

      it('counts the callbacks still to deliver that a store kept past a restart', async () => {
        const first = await started();
        const [done, due] = [
          await admitWith(first.backend, { callbackUrl: 'https://hooks.example/done' }),
          await admitWith(first.backend, { callbackUrl: 'https://hooks.example/done' }),
        ];
        await vi.waitFor(() => expect(first.processor.startedIds()).toEqual([done, due]));
        first.processor.complete(done);
        first.processor.complete(due);
        await vi.waitFor(async () =>
          expect((await first.backend.counts()).callbacksPending).toBe(2),
        );
        await first.backend.setCallback(done, {
          url: 'https://hooks.example/done',
          state: 'delivered',
          deliveries: [{ attempt: 1, at: 5, ok: true, statusCode: 204, error: null }],
          nextAt: null,
        });
        await first.backend.close();
        const second = fixture.create({ ...DEFAULTS });
        open.push(second.backend);
        await second.backend.open();
        expect((await second.backend.counts()).callbacksPending).toBe(fixture.durable ? 1 : 0);
      });
    });

    describe('a cap on tasks held', () => {
      it('removes the oldest finished tasks to make room, and refuses when none is finished', async () => {
        const { backend, processor } = await started({ concurrency: 1, maxTasks: 3 });
        const [first, second] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(first as string);
        await vi.waitFor(() => expect(processor.running.has(second as string)).toBe(true));
        fixture.clock.advance(10);
        processor.complete(second as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(2));
        const [third, fourth] = await admitMany(backend, fixture.clock.now(), 2);
        expect(await backend.get(first as string)).toBeUndefined();
        expect(await backend.get(second as string)).toBeDefined();
        expect((await backend.counts()).total).toBe(3);
        const [fifth] = await admitMany(backend, fixture.clock.now(), 1);
        expect(await backend.get(second as string)).toBeUndefined();
        expect((await backend.counts()).total).toBe(3);
        expect(await backend.admit(newTask(fixture.clock.now()))).toMatchObject({
          ok: false,
          reason: 'tasks_full',
        });
        expect((await backend.list({ limit: 10, offset: 0 })).tasks.map((task) => task.id)).toEqual(
          [fifth, fourth, third],
        );
      });
    });

    describe('stopping', () => {
      it('lets calls that end within the grace finish, and cuts off the rest', async () => {
        const { backend, processor } = await started({ concurrency: 2 });
        const [quick, slow] = await admitMany(backend, fixture.clock.now(), 2);
        const [queued] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(2));
        const stopped = backend.stop(5_000);
        processor.complete(quick as string);
        await vi.waitFor(async () =>
          expect((await backend.get(quick as string))?.status).toBe('completed'),
        );
        fixture.clock.advance(5_000);
        await stopped;
        expect(await backend.get(slow as string)).toMatchObject({
          status: 'failed',
          error: { code: 'interrupted' },
        });
        const left = await backend.get(queued as string);
        if (fixture.durable) {
          expect(left).toMatchObject({ status: 'pending', startedAt: null });
        } else {
          expect(left).toMatchObject({
            status: 'failed',
            startedAt: null,
            error: { code: 'interrupted' },
          });
          // It never had an upstream call, and its message does not say it had one.
          expect(left?.error?.message).toBe(
            'The proxy stopped (shut down or crashed) before the task could finish (it was still queued, and a --store memory proxy keeps no queue)',
          );
        }
        expect(processor.startedIds()).not.toContain(queued);
      });

      it('with requeueInterrupted, a call cut off by the stop goes back in line, kept in the history', async () => {
        const { backend, processor } = await started({ concurrency: 1, maxRequeues: 3 });
        const [slow] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const startedAt = fixture.clock.now();
        fixture.clock.advance(1_234);
        await backend.stop(0);
        const left = await backend.get(slow as string);
        if (!fixture.durable) {
          expect(left).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
          return;
        }
        expect(left).toMatchObject({ status: 'pending', startedAt: null, attempts: 1 });
        expect(left?.attemptLog).toEqual([
          {
            attempt: 1,
            startedAt,
            finishedAt: startedAt + 1_234,
            outcome: 'failed',
            statusCode: null,
            errorCode: 'interrupted',
            retryAt: null,
          },
        ]);
      });

      it('fails queued tasks at once when nothing outlives the process, else keeps them', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [running, queued] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const stopped = backend.stop(60_000);
        await vi.waitFor(async () =>
          expect((await backend.get(queued as string))?.status).toBe(
            fixture.durable ? 'pending' : 'failed',
          ),
        );
        expect((await backend.get(running as string))?.status).toBe('processing');
        processor.complete(running as string);
        await stopped;
        expect((await backend.get(running as string))?.status).toBe('completed');
      });
    });

    describe('recovery after the process died', () => {
      it('fails the calls cut off interrupted and runs the waiting tasks in their order', async () => {
        const first = await started({ concurrency: 2 });
        const ids = await admitMany(first.backend, fixture.clock.now(), 5);
        await vi.waitFor(() => expect(first.processor.running.size).toBe(2));
        fixture.clock.advance(1_500);
        first.processor.complete(ids[0] as string, completed('kept'));
        await vi.waitFor(() => expect(first.processor.running.size).toBe(2));
        await vi.waitFor(async () =>
          expect((await first.backend.get(ids[0] as string))?.status).toBe('completed'),
        );
        await fixture.crash(first.backend);

        const second = fixture.create({ ...DEFAULTS, concurrency: 1 });
        open.push(second.backend);
        const { interruptedIds, requeuedIds, ...report } = await second.backend.open();
        expect(requeuedIds ?? []).toEqual([]);
        if (!fixture.durable) {
          expect(report).toEqual({
            pending: 0,
            requeued: 0,
            interrupted: 0,
            total: 0,
            pastMaxRequeues: [],
            finishedCalls: null,
          });
          expect(interruptedIds ?? []).toEqual([]);
          return;
        }
        // The one call completed, for estimates; the interrupted ones are no processing time.
        expect(report).toEqual({
          pending: 2,
          requeued: 0,
          interrupted: 2,
          total: 5,
          pastMaxRequeues: [],
          finishedCalls: { meanMs: 1_500, calls: 1 },
        });
        // Named, for the log's task failed warnings: the crashed run logged only their start.
        expect(interruptedIds?.toSorted()).toEqual(ids.slice(1, 3).toSorted());
        expect(await second.backend.get(ids[0] as string)).toMatchObject({
          status: 'completed',
          result: { body: 'kept' },
        });
        for (const id of [ids[1], ids[2]]) {
          expect(await second.backend.get(id as string)).toMatchObject({
            status: 'failed',
            error: {
              code: 'interrupted',
              message:
                'The proxy stopped (shut down or crashed) before the task could finish (its upstream call was in flight)',
            },
          });
        }
        expect((await second.backend.get(ids[4] as string))?.queuePosition).toBe(2);
        const processor = new ScriptedProcessor();
        processor.autoOutcome = completed('after restart');
        second.backend.start(processor.process);
        await vi.waitFor(async () => expect((await second.backend.counts()).completed).toBe(3));
        expect(processor.startedIds()).toEqual([ids[3], ids[4]]);
      });

      it('reads the mean of the calls finished before, any outcome but one cut off', async () => {
        const first = await started({ concurrency: 2 });
        const [done, failed] = await admitMany(first.backend, fixture.clock.now(), 3);
        await vi.waitFor(() => expect(first.processor.running.size).toBe(2));
        fixture.clock.advance(1_000);
        first.processor.complete(done as string, completed('in a second'));
        await vi.waitFor(() => expect(first.processor.running.size).toBe(2));
        fixture.clock.advance(2_000);
        first.processor.complete(failed as string, completed('refused', 500));
        await vi.waitFor(async () =>
          expect((await first.backend.get(failed as string))?.status).toBe('failed'),
        );
        // The third call, 2 s in, is cut off by the crash: no processing time.
        await fixture.crash(first.backend);

        const second = fixture.create({ ...DEFAULTS, concurrency: 1 });
        open.push(second.backend);
        const report = await second.backend.open();
        expect(report.finishedCalls).toEqual(fixture.durable ? { meanMs: 2_000, calls: 2 } : null);
      });

      it('puts the calls cut off back in line first with requeueInterrupted', async () => {
        const first = await started({ concurrency: 1, maxRequeues: 3 });
        const ids = await admitMany(first.backend, fixture.clock.now(), 3);
        await vi.waitFor(() => expect(first.processor.running.size).toBe(1));
        await fixture.crash(first.backend);

        const second = fixture.create({ ...DEFAULTS, concurrency: 1, maxRequeues: 3 });
        open.push(second.backend);
        const { interruptedIds, requeuedIds, ...report } = await second.backend.open();
        if (!fixture.durable) {
          expect(report.total).toBe(0);
          return;
        }
        expect(interruptedIds).toEqual([]);
        // Named, for the log's task back in the queue lines: the crashed run logged only the start.
        expect(requeuedIds).toEqual([ids[0]]);
        expect(report).toEqual({
          pending: 2,
          requeued: 1,
          interrupted: 0,
          total: 3,
          pastMaxRequeues: [],
          finishedCalls: null,
        });
        const processor = new ScriptedProcessor();
        processor.autoOutcome = completed('again');
        second.backend.start(processor.process);
        await vi.waitFor(async () => expect((await second.backend.counts()).completed).toBe(3));
        expect(processor.startedIds()).toEqual(ids);
        expect(processor.jobs[0]?.attempt).toBe(2);
        const again = await second.backend.get(ids[0] as string);
        expect(again?.attempts).toBe(2);
        // The call the dead process cut off stays in the history, beside the one that ran again.
        expect(again?.attemptLog).toMatchObject([
          {
            attempt: 1,
            outcome: 'failed',
            statusCode: null,
            errorCode: 'interrupted',
            retryAt: null,
          },
          { attempt: 2, outcome: 'completed', statusCode: 200, errorCode: null },
        ]);
        const [cutOff] = again?.attemptLog ?? [];
        expect(cutOff?.finishedAt).toBeGreaterThanOrEqual(cutOff?.startedAt ?? Number.NaN);
      });

      // The defect: with requeueInterrupted, a task whose call itself brings the process down
      // (an answer that runs it out of memory) ran again at every start, a crash loop.
      it('fails a call cut off interrupted once its task went back in line maxRequeues times', async () => {
        const settings = { concurrency: 1, maxRequeues: 2 };
        let { backend, processor } = await started(settings);
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const reports: RecoveryReport[] = [];
        for (let crash = 1; crash <= 3; crash++) {
          await vi.waitFor(() => expect(processor.running.size).toBe(1));
          await fixture.crash(backend);
          const next = fixture.create({ ...DEFAULTS, ...settings });
          open.push(next.backend);
          reports.push(await next.backend.open());
          if (!fixture.durable) {
            expect(reports[0]?.total).toBe(0);
            return;
          }
          processor = new ScriptedProcessor();
          next.backend.start(processor.process);
          backend = next.backend;
        }
        const below = { pending: 0, requeued: 1, interrupted: 0, total: 1, pastMaxRequeues: [] };
        expect(reports).toMatchObject([
          below,
          below,
          { pending: 0, requeued: 0, interrupted: 1, total: 1, pastMaxRequeues: [id] },
        ]);
        const ended = await backend.get(id as string);
        expect(ended).toMatchObject({
          status: 'failed',
          attempts: 3,
          error: { code: 'interrupted' },
        });
        expect(ended?.error?.message).toContain('--max-requeues');
        // Every cut-off call stays in the history, the last one too.
        expect(ended?.attemptLog.map((call) => [call.attempt, call.errorCode])).toEqual([
          [1, 'interrupted'],
          [2, 'interrupted'],
          [3, 'interrupted'],
        ]);
        expect(processor.startedIds()).toEqual([]);
      });

      // Review: a run the stop flagged just as its call ended on its own went back in line (or,
      // past the cap, ended interrupted) though its answer was in hand.
      it('keeps an answer that came as the stop cut in, with requeueInterrupted too', async () => {
        const { backend } = await backendWith({ concurrency: 1, maxRequeues: 1 });
        const calls: string[] = [];
        backend.start(
          (job, signal) =>
            new Promise((resolve) => {
              calls.push(job.id);
              // The answer came as the stop's abort did: the call ends completed all the same.
              signal.addEventListener('abort', () => resolve(completed('just in time')));
            }),
        );
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(calls).toHaveLength(1));
        await backend.stop(0);
        expect(await backend.get(id as string)).toMatchObject({
          status: 'completed',
          attempts: 1,
          error: null,
        });
      });

      it('counts a call a stop cut off toward maxRequeues, as one a crash cut off', async () => {
        const settings = { concurrency: 1, maxRequeues: 1 };
        const first = await started(settings);
        const [id] = await admitMany(first.backend, fixture.clock.now(), 1);
        await vi.waitFor(() => expect(first.processor.running.size).toBe(1));
        await first.backend.stop(0);
        await first.backend.close();
        if (!fixture.durable) return;

        const second = fixture.create({ ...DEFAULTS, ...settings });
        open.push(second.backend);
        expect(await second.backend.open()).toMatchObject({ pending: 1, requeued: 0 });
        const processor = new ScriptedProcessor();
        second.backend.start(processor.process);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        await second.backend.stop(0);
        const ended = await second.backend.get(id as string);
        expect(ended).toMatchObject({
          status: 'failed',
          attempts: 2,
          error: { code: 'interrupted' },
        });
        expect(ended?.error?.message).toContain('--max-requeues');
        expect(ended?.attemptLog.map((call) => call.errorCode)).toEqual([
          'interrupted',
          'interrupted',
        ]);
      });

      it('keeps counts and retention going across a restart', async () => {
        const first = await started({ concurrency: 1 });
        first.processor.autoOutcome = completed('x');
        await admitMany(first.backend, fixture.clock.now(), 3);
        await vi.waitFor(async () => expect((await first.backend.counts()).completed).toBe(3));
        await first.backend.close();

        const second = fixture.create(DEFAULTS);
        open.push(second.backend);
        await second.backend.open();
        const expected = fixture.durable ? 3 : 0;
        expect(await second.backend.counts()).toMatchObject({
          completed: expected,
          total: expected,
        });
        fixture.clock.advance(10);
        expect(await second.backend.removeFinished(fixture.clock.now())).toBe(expected);
        expect((await second.backend.counts()).total).toBe(0);
      });
    });

    describe('cancelling', () => {
      it('takes a pending task out of the queue: cancelled, never started', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [running, queued, after] = await admitMany(backend, fixture.clock.now(), 3);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const answer = await backend.cancel(queued as string);
        expect(answer).toMatchObject({
          ok: true,
          task: { id: queued, status: 'cancelled', queuePosition: null },
        });
        expect((await backend.get(after as string))?.queuePosition).toBe(1);
        expect(await backend.counts()).toMatchObject({ cancelled: 1, pending: 1, queued: 1 });
        processor.complete(running as string);
        await vi.waitFor(() => expect(processor.running.has(after as string)).toBe(true));
        expect(processor.startedIds()).not.toContain(queued);
      });

      it('aborts a processing task’s call and ends it cancelled, whatever the call says after', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [id, next] = await admitMany(backend, fixture.clock.now(), 2);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        const signal = processor.running.get(id as string)?.signal;
        const waiting = backend.waitForFinish(id as string, new AbortController().signal);
        const answer = await backend.cancel(id as string);
        expect(answer).toMatchObject({ ok: true, task: { status: 'cancelled', attempts: 1 } });
        expect(signal?.aborted).toBe(true);
        expect(await waiting).toMatchObject({ status: 'cancelled' });
        await vi.waitFor(() => expect(processor.running.has(next as string)).toBe(true));
        expect((await backend.get(id as string))?.status).toBe('cancelled');
      });

      it('answers a finished task as it is, and an unknown one as not found', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        processor.autoOutcome = completed('done');
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(async () =>
          expect((await backend.get(id as string))?.status).toBe('completed'),
        );
        expect(await backend.cancel(id as string)).toMatchObject({
          ok: false,
          reason: 'finished',
          task: { status: 'completed', result: { body: 'done' } },
        });
        expect(await backend.cancel('00000000-0000-4000-8000-ffffffffffff')).toEqual({
          ok: false,
          reason: 'not_found',
        });
      });

      it('lets exactly one of a cancel and a finish racing win, the same for every reader', async () => {
        const { backend, processor } = await started({ concurrency: 100 });
        const ids = await admitMany(backend, fixture.clock.now(), 100);
        await vi.waitFor(() => expect(processor.running.size).toBe(100));
        const soon = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        const answers = await Promise.all(
          ids.map(async (id) => {
            const finishing = soon().then(() => {
              if (processor.running.has(id)) processor.complete(id, completed('won'));
            });
            const cancel = soon().then(() => backend.cancel(id));
            await finishing;
            return cancel;
          }),
        );
        const waited = await Promise.all(
          ids.map((id) => backend.waitForFinish(id, new AbortController().signal)),
        );
        for (const [n, answer] of answers.entries()) {
          const status = answer.ok
            ? 'cancelled'
            : answer.reason === 'finished'
              ? answer.task.status
              : 'none';
          expect(['cancelled', 'completed']).toContain(status);
          expect((await backend.get(ids[n] as string))?.status).toBe(status);
          expect(waited[n]?.status).toBe(status);
          if (status === 'completed') expect(waited[n]?.result?.body).toBe('won');
        }
        const counts = await backend.counts();
        expect(counts.cancelled + counts.completed).toBe(100);
        expect(counts.cancelled).toBeGreaterThan(0);
        expect(counts.completed).toBeGreaterThan(0);
      });
    });

    describe('idempotency keys', () => {
      it('answers the task already held for the same key and request, refuses another request', async () => {
        const { backend } = await backendWith();
        const first = newTask(fixture.clock.now(), 'a', {
          idempotencyKey: 'k1',
          requestHash: 'h1',
        });
        expect(await backend.admit(first)).toEqual({ ok: true, taskId: first.id, existing: false });
        const again = newTask(fixture.clock.now(), 'a', {
          idempotencyKey: 'k1',
          requestHash: 'h1',
        });
        expect(await backend.admit(again)).toEqual({ ok: true, taskId: first.id, existing: true });
        const other = newTask(fixture.clock.now(), 'b', {
          idempotencyKey: 'k1',
          requestHash: 'h2',
        });
        expect(await backend.admit(other)).toEqual({
          ok: false,
          reason: 'idempotency_conflict',
          taskId: first.id,
        });
        expect((await backend.counts()).total).toBe(1);
      });

      it('creates exactly one task for a concurrent burst with one key', async () => {
        const { backend } = await backendWith();
        const answers = await Promise.all(
          Array.from({ length: 50 }, () =>
            backend.admit(
              newTask(fixture.clock.now(), 'burst', { idempotencyKey: 'k', requestHash: 'h' }),
            ),
          ),
        );
        const ids = new Set(answers.map((answer) => (answer.ok ? answer.taskId : 'refused')));
        expect(ids.size).toBe(1);
        expect(answers.filter((answer) => answer.ok && !answer.existing)).toHaveLength(1);
        expect((await backend.counts()).total).toBe(1);
      });

      it('answers the existing task even when the queue is full, and frees the key once it is removed', async () => {
        const { backend, processor } = await started({ concurrency: 1, maxQueueSize: 1 });
        processor.autoOutcome = completed('x');
        const keyed = newTask(fixture.clock.now(), 'k', {
          idempotencyKey: 'kept',
          requestHash: 'h',
        });
        await backend.admit(keyed);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));
        expect(
          await backend.admit(
            newTask(fixture.clock.now(), 'k', { idempotencyKey: 'kept', requestHash: 'h' }),
          ),
        ).toMatchObject({
          taskId: keyed.id,
          existing: true,
        });
        fixture.clock.advance(1);
        expect(await backend.removeFinished(fixture.clock.now())).toBe(1);
        const fresh = newTask(fixture.clock.now(), 'k', {
          idempotencyKey: 'kept',
          requestHash: 'h',
        });
        expect(await backend.admit(fresh)).toEqual({ ok: true, taskId: fresh.id, existing: false });
      });
    });

    describe('running a task again', () => {
      it('links the new task to the original both ways', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        processor.autoOutcome = completed('x', 500);
        const [original] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(async () =>
          expect((await backend.get(original as string))?.status).toBe('failed'),
        );
        const request = await backend.getRequest(original as string);
        const again = {
          ...newTask(fixture.clock.now(), 'again', { retryOf: original as string }),
          request: request as never,
        };
        expect(await backend.admit(again)).toMatchObject({ ok: true, taskId: again.id });
        expect(await backend.get(again.id)).toMatchObject({ retryOf: original, retriedAs: null });
        expect(await backend.get(original as string)).toMatchObject({
          retryOf: null,
          retriedAs: again.id,
        });
        await vi.waitFor(() => expect(processor.startedIds()).toContain(again.id));
        expect(processor.jobs.at(-1)?.request.path).toBe(request?.path);
      });
    });

    describe('resuming events', () => {
      it('replays what a subscriber missed after the last event it saw', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const seen: TaskEvent[] = [];
        const first = backend.subscribe((event) => seen.push(event), { resumable: true });
        const [a] = await admitMany(backend, fixture.clock.now(), 1);
        await vi.waitFor(() =>
          expect(seen.map((event) => event.type)).toEqual(['created', 'started']),
        );
        const lastSeen = seen[0]?.id as string;
        first.close();
        processor.complete(a as string);
        await vi.waitFor(async () => expect((await backend.counts()).completed).toBe(1));

        const replayed: TaskEvent[] = [];
        const resumed = backend.subscribe((event) => replayed.push(event), { after: lastSeen });
        expect(resumed.complete).toBe(true);
        expect(replayed.map((event) => event.type)).toEqual(['started', 'finished']);
        expect(replayed[0]?.id).toBe(seen[1]?.id);
        resumed.close();
      });

      it('says so when the id it resumes after is unknown', async () => {
        const { backend } = await backendWith();
        await admitMany(backend, fixture.clock.now(), 1);
        const replayed: TaskEvent[] = [];
        const resumed = backend.subscribe((event) => replayed.push(event), {
          after: 'no-such-event',
        });
        expect(resumed.complete).toBe(false);
        expect(replayed).toEqual([]);
        resumed.close();
        expect(backend.listenerCounts()).toEqual({ subscribers: 0, waiters: 0 });
      });

      it('leaves no waiter behind once waits end or are aborted', async () => {
        const { backend, processor } = await started({ concurrency: 1 });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const aborts = Array.from({ length: 10 }, () => new AbortController());
        const waits = aborts.map((abort) =>
          backend.waitForFinish(id as string, abort.signal).catch(() => 'aborted'),
        );
        const kept = backend.waitForFinish(id as string, new AbortController().signal);
        expect(backend.listenerCounts().waiters).toBe(11);
        for (const abort of aborts) abort.abort(new Error('gone'));
        expect(await Promise.all(waits)).toEqual(Array(10).fill('aborted'));
        expect(backend.listenerCounts().waiters).toBe(1);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        processor.complete(id as string);
        await kept;
        expect(backend.listenerCounts().waiters).toBe(0);
      });
    });

    describe('when the store fails', () => {
      it('refuses an admission it cannot save, with nothing half-made, and recovers', async () => {
        const { backend, faults } = await backendWith();
        faults.failNext('admit');
        const failed = backend.admit(newTask(fixture.clock.now()));
        await expect(failed).rejects.toSatisfy(isStoreUnavailableError);
        expect(await backend.counts()).toMatchObject({ total: 0, queued: 0 });
        expect((await backend.health()).available).toBe(false);
        expect((await backend.health()).message).toMatch(/store failure/);
        await admitMany(backend, fixture.clock.now(), 1);
        expect(await backend.health()).toEqual({ available: true, message: null });
      });

      it('strands no task when a start cannot be saved: it starts later, once', async () => {
        const { backend, faults, processor } = await started({ concurrency: 1 });
        faults.failNext('start');
        processor.autoOutcome = completed('ok');
        const ids = await admitMany(backend, fixture.clock.now(), 5);
        await vi.waitFor(async () => {
          fixture.clock.advance(200);
          expect((await backend.counts()).completed).toBe(5);
        });
        expect(processor.startedIds()).toEqual(ids);
      });

      it('keeps an outcome it cannot save and saves it later; waiters hear it', async () => {
        const { backend, faults, processor } = await started({ concurrency: 1 });
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        const waiting = backend.waitForFinish(id as string, new AbortController().signal);
        await vi.waitFor(() => expect(processor.running.size).toBe(1));
        faults.failNext('finish', 2);
        processor.complete(id as string, completed('late'));
        await vi.waitFor(async () => {
          fixture.clock.advance(500);
          expect((await backend.get(id as string))?.status).toBe('completed');
        });
        expect(await waiting).toMatchObject({ status: 'completed', result: { body: 'late' } });
        expect(processor.jobs).toHaveLength(1);
      });

      it('answers a read it cannot make with StoreUnavailableError', async () => {
        const { backend, faults } = await backendWith();
        const [id] = await admitMany(backend, fixture.clock.now(), 1);
        faults.failNext('read');
        await expect(backend.get(id as string)).rejects.toSatisfy(isStoreUnavailableError);
        expect((await backend.get(id as string))?.status).toBe('pending');
      });
    });
  });
}
