import type { LaneEvent, LaneJob } from './lane.js';

/** From the proxy's main thread to its forwarding thread. */
export type ToLaneThread =
  | { type: 'jobs'; jobs: readonly LaneJob[] }
  | { type: 'drain'; graceMs: number };

/** From the forwarding thread back; `drained` comes after every event of the drained calls. */
export type FromLaneThread =
  | { type: 'ready'; threadId: number | null }
  | { type: 'events'; events: LaneEvent[] }
  | { type: 'drained'; unstarted: string[] };
