import { Worker } from 'node:worker_threads';
import type { StoredResult, TaskOutcome } from '../tasks/task-store.js';
import type { ForwardingLane, LaneEvent, LaneJob, LaneListener, LaneOptions } from './lane.js';
import type { FromLaneThread, ToLaneThread } from './thread-messages.js';

/** Built next to the module that bundles this one (dist/lane-thread.js). */
const LANE_THREAD_URL = new URL('./lane-thread.js', import.meta.url);

export interface ThreadLaneHooks {
  /** The thread ended without being asked to, or could not start: its jobs are lost. */
  onStopped(error: Error): void;
  /** The thread runs; `threadId` is its kernel thread id on Linux, null elsewhere. */
  onReady?(threadId: number | null): void;
  /** The thread's entry module; the built one next to this module by default. */
  entry?: URL;
}

/**
 * The lane in a worker thread of its own (see lane-thread.ts): jobs go over in one message per
 * hand-over, events come back in one message per turn of the thread's loop.
 */
export class ThreadLane implements ForwardingLane {
  readonly #worker: Worker;
  #drained: ((unstarted: string[]) => void) | null = null;
  #closing = false;
  #exited = false;
  #lastError: Error | null = null;

  constructor(options: LaneOptions, listener: LaneListener, hooks: ThreadLaneHooks) {
    this.#worker = new Worker(hooks.entry ?? LANE_THREAD_URL, {
      workerData: options,
      name: 'proxy-server forwarding',
    });
    // The HTTP server keeps the process alive; the thread alone must not.
    this.#worker.unref();
    this.#worker.on('message', (message: FromLaneThread) => {
      if (message.type === 'events') listener(message.events.map(withBuffers));
      else if (message.type === 'ready') hooks.onReady?.(message.threadId);
      else this.#drained?.(message.unstarted);
    });
    this.#worker.on('error', (error) => {
      this.#lastError = error;
    });
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      this.#drained?.([]);
      if (this.#closing) return;
      hooks.onStopped(
        this.#lastError ?? new Error(`the forwarding thread exited with code ${code}`),
      );
    });
  }

  enqueue(jobs: readonly LaneJob[]): void {
    this.#post({ type: 'jobs', jobs });
  }

  drain(graceMs: number): Promise<string[]> {
    if (this.#exited) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.#drained = resolve;
      this.#post({ type: 'drain', graceMs });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }

  #post(message: ToLaneThread): void {
    this.#worker.postMessage(message);
  }
}

/** Structured cloning turns a Buffer into a plain Uint8Array; the store keeps Buffers. */
function withBuffers(event: LaneEvent): LaneEvent {
  if (event.kind !== 'finished') return event;
  const result = event.outcome.result;
  if (!result || typeof result.body === 'string' || Buffer.isBuffer(result.body)) return event;
  const bytes: Uint8Array = result.body;
  const revived: StoredResult = {
    ...result,
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
  const outcome: TaskOutcome = { ...event.outcome, result: revived };
  return { ...event, outcome };
}
