import type { BinaryString, PackedHeaders } from '../tasks/stored-request.js';
import type { TaskOutcome } from '../tasks/task-store.js';
import type { UpstreamOptions } from '../upstream/upstream-client.js';

/** One task handed to the lane: its id and the request to send, as the store kept it. */
export interface LaneJob {
  id: string;
  method: string;
  path: string;
  headers: PackedHeaders;
  body: BinaryString | null;
}

/** What the lane reports, in the order it happened; times are epoch milliseconds. */
export type LaneEvent =
  | { kind: 'started'; id: string; at: number }
  | { kind: 'finished'; id: string; at: number; outcome: TaskOutcome };

export interface LaneOptions {
  upstream: UpstreamOptions;
  numWorkers: number;
  maxConcurrent: number;
}

/** Called with events in the order they happened; a call may carry several. */
export type LaneListener = (events: LaneEvent[]) => void;

/**
 * Where upstream calls are made: a FIFO of handed-over jobs, the worker loops and the cap on
 * calls in flight, the connection pool to the target. It starts the next job as soon as a call
 * ends, without waiting for whoever handed the jobs over.
 */
export interface ForwardingLane {
  /** Appends jobs to the lane's FIFO; each is reported `started`, then `finished`. */
  enqueue(jobs: readonly LaneJob[]): void;
  /**
   * Starts nothing more and gives back the ids of the jobs that never started; calls in flight
   * get `graceMs` to end and are then cut off (finished as `interrupted`). Every `finished` event
   * has been delivered when it resolves.
   */
  drain(graceMs: number): Promise<string[]>;
  /** Releases the lane's connections and, for a thread, the thread. Call after `drain`. */
  close(): Promise<void>;
}
