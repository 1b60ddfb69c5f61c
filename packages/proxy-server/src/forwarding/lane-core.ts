import type { Dispatcher } from 'undici';
import { BoundedQueue } from '../queue/bounded-queue.js';
import { bytesOf, unpackHeaders } from '../tasks/stored-request.js';
import { taskError } from '../upstream/error-codes.js';
import { taskOutcomeOf } from '../upstream/task-outcome.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import type { LaneEvent, LaneJob, LaneOptions } from './lane.js';
import { WorkerPool } from './worker-pool.js';

/**
 * The lane's machinery, the same on the main thread and in the forwarding thread: handed-over
 * jobs in a FIFO, worker loops under the concurrency cap, and the upstream client. Reports each
 * job through `emit` as it starts and as it finishes.
 */
export class LaneCore {
  /** Unbounded here: the proxy's own queue holds the line and hands over only a window of it. */
  readonly #jobs = new BoundedQueue<LaneJob>(Number.MAX_SAFE_INTEGER);
  readonly #upstream: UpstreamClient;
  readonly #workers: WorkerPool<LaneJob>;
  readonly #emit: (event: LaneEvent) => void;

  constructor(options: LaneOptions, emit: (event: LaneEvent) => void, dispatcher?: Dispatcher) {
    this.#emit = emit;
    this.#upstream = new UpstreamClient(options.upstream, dispatcher);
    this.#workers = new WorkerPool({
      numWorkers: options.numWorkers,
      concurrency: options.maxConcurrent,
      take: () => this.#jobs.shift(),
      process: (job, signal) => this.#run(job, signal),
      onError: (error, job) =>
        this.#emit({
          kind: 'finished',
          id: job.id,
          at: Date.now(),
          outcome: {
            status: 'failed',
            result: null,
            error: taskError('upstream_error', `the proxy failed to forward it: ${String(error)}`),
          },
        }),
    });
  }

  enqueue(jobs: readonly LaneJob[]): void {
    for (const job of jobs) {
      this.#jobs.push(job);
      this.#workers.notify();
    }
  }

  async drain(graceMs: number): Promise<string[]> {
    const unstarted: string[] = [];
    for (let job = this.#jobs.shift(); job !== undefined; job = this.#jobs.shift()) {
      unstarted.push(job.id);
    }
    await this.#workers.close(graceMs);
    return unstarted;
  }

  close(): Promise<void> {
    return this.#upstream.close();
  }

  async #run(job: LaneJob, signal: AbortSignal): Promise<void> {
    this.#emit({ kind: 'started', id: job.id, at: Date.now() });
    const outcome = await this.#upstream.send(
      {
        method: job.method,
        path: job.path,
        rawHeaders: unpackHeaders(job.headers),
        body: job.body === null ? null : bytesOf(job.body),
      },
      signal,
    );
    this.#emit({ kind: 'finished', id: job.id, at: Date.now(), outcome: taskOutcomeOf(outcome) });
  }
}
