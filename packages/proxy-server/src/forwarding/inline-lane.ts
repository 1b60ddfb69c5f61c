import type { Dispatcher } from 'undici';
import type { ForwardingLane, LaneJob, LaneListener, LaneOptions } from './lane.js';
import { LaneCore } from './lane-core.js';

/**
 * The lane on the main thread: what the proxy uses with an injected dispatcher (e.g. undici's
 * MockAgent, which cannot cross to a thread) or when asked for no forwarding thread.
 */
export class InlineLane implements ForwardingLane {
  readonly #core: LaneCore;

  constructor(options: LaneOptions, listener: LaneListener, dispatcher?: Dispatcher) {
    this.#core = new LaneCore(options, (event) => listener([event]), dispatcher);
  }

  enqueue(jobs: readonly LaneJob[]): void {
    this.#core.enqueue(jobs);
  }

  drain(graceMs: number): Promise<string[]> {
    return this.#core.drain(graceMs);
  }

  close(): Promise<void> {
    return this.#core.close();
  }
}
