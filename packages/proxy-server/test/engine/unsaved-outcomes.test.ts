import { describe, expect, it, vi } from 'vitest';
import { admitMany, type FakeClock, FaultyRepository } from './harness.js';
import { oneSlotSqliteBackend } from './local-fixture.js';

// Hostile pass, a full disk: the target's answers could not be saved, yet the proxy kept
// starting calls (each answer held in memory, without bound), and a stop dropped what it held
// without a word; after the restart those tasks read `interrupted`, though their calls had
// finished.

/** A one-slot SQLite backend whose store fails on demand, and the errors it reported. */
async function sqliteBackend(options: { maxRequeues?: number } = {}) {
  const errors: string[] = [];
  const started = await oneSlotSqliteBackend((inner) => new FaultyRepository(inner), {
    ...options,
    onError: (error) => errors.push(error instanceof Error ? error.message : String(error)),
  });
  return { ...started, errors };
}

/** Moves the fake clock on in steps, letting what each step wakes run, until `done` settles. */
async function runClock(clock: FakeClock, done: Promise<unknown>, stepMs = 100) {
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 1_000 && !settled; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(stepMs);
  }
  await done;
}

describe('outcomes the store cannot take', () => {
  it('hold back the next call until they are saved', async () => {
    const { backend, repository, processor, clock, errors } = await sqliteBackend();
    const [first, second] = await admitMany(backend, clock.now(), 2);
    await vi.waitFor(() => expect([...processor.running.keys()]).toEqual([first]));
    repository.failNext('finish');
    processor.complete(first as string);
    await vi.waitFor(() => expect(errors.join()).toContain('store failure: finish'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(processor.running.size).toBe(0);
    clock.advance(100);
    await vi.waitFor(() => expect([...processor.running.keys()]).toEqual([second]));
    expect((await backend.get(first as string))?.status).toBe('completed');
  });

  it('are tried again through the grace of a stop, and saved once the store takes them', async () => {
    const { backend, repository, processor, clock } = await sqliteBackend();
    const [first] = await admitMany(backend, clock.now(), 1);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    repository.failNext('finish', 4);
    processor.complete(first as string);
    const stopped = backend.stop(5_000);
    await runClock(clock, stopped);
    expect(await stopped).toEqual({ unsavedOutcomes: [], notStarted: 0 });
    expect((await backend.get(first as string))?.status).toBe('completed');
  });

  it('left unsaved when the grace ends are named, task by task', async () => {
    const { backend, repository, processor, clock, errors } = await sqliteBackend();
    const [first] = await admitMany(backend, clock.now(), 1);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    repository.failNext('finish', 1_000);
    processor.complete(first as string);
    const stopped = backend.stop(2_000);
    await runClock(clock, stopped);
    expect(errors.at(-1)).toBe(
      `the outcome of 1 task could not be saved before the stop and is lost: ${first}`,
    );
    expect(await stopped).toEqual({ unsavedOutcomes: [first], notStarted: 0 });
  });
});

// Operator pass: with --requeue-interrupted, a stop whose requeues the store would not take (a
// full disk) said `stopped: no call was in flight` and exited 0; the tasks cut off were named
// nowhere but in the store's error, as though nothing was lost.
describe('requeues the store cannot take at a stop', () => {
  it('left unsaved when the grace ends are named, task by task, as outcomes not saved', async () => {
    const { backend, repository, processor, clock, errors } = await sqliteBackend({
      maxRequeues: 3,
    });
    const [first] = await admitMany(backend, clock.now(), 1);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    repository.failNext('requeue', 1_000);
    const stopped = backend.stop(2_000);
    await runClock(clock, stopped);
    expect(errors.at(-1)).toBe(
      `the outcome of 1 task could not be saved before the stop and is lost: ${first}`,
    );
    expect(await stopped).toEqual({ unsavedOutcomes: [first], notStarted: 0 });
    expect((await backend.get(first as string))?.status).toBe('processing');
  });

  it('are tried again before the stop ends, and the task is back in line once the store takes it', async () => {
    const { backend, repository, processor, clock } = await sqliteBackend({ maxRequeues: 3 });
    const [first] = await admitMany(backend, clock.now(), 1);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    repository.failNext('requeue');
    const stopped = backend.stop(5_000);
    await runClock(clock, stopped);
    expect(await stopped).toEqual({ unsavedOutcomes: [], notStarted: 0 });
    expect((await backend.get(first as string))?.status).toBe('pending');
  });
});

// Hostile pass: a tasks.db damaged while the proxy ran answered 503 store_unavailable with
// Retry-After for ever, saying only "database disk image is malformed".
describe('a task file found damaged while running', () => {
  it('is named as damaged in the health message and the error, with what to do', async () => {
    const { backend, repository, clock } = await sqliteBackend();
    repository.errorFields = { code: 'SQLITE_CORRUPT_INDEX' };
    repository.failNext('insert');
    const refused = await admitMany(backend, clock.now(), 1).catch((error: Error) => error);
    const damaged = `(${repository.location} is damaged and will not mend by itself: stop the proxy, move it and its -wal and -shm files away and restore a backup)`;
    expect((refused as Error).message).toContain(damaged);
    expect((await backend.health()).message).toContain(damaged);
  });

  // Operator pass: with the file damaged (or removed), a stop tried the outcome it could not
  // save for the whole 30 s grace, though the failure was known not to pass.
  it('does not hold a stop for the grace trying outcomes it cannot save', async () => {
    const { backend, repository, processor, clock } = await sqliteBackend();
    const [first] = await admitMany(backend, clock.now(), 1);
    await vi.waitFor(() => expect(processor.running.size).toBe(1));
    repository.errorFields = { code: 'SQLITE_CORRUPT' };
    repository.failNext('finish', 1_000);
    processor.complete(first as string);
    const startedAt = clock.monotonic();
    const stopped = backend.stop(30_000);
    await runClock(clock, stopped);
    expect(await stopped).toEqual({ unsavedOutcomes: [first], notStarted: 0 });
    expect(clock.monotonic() - startedAt).toBeLessThan(1_000);
  });
});
