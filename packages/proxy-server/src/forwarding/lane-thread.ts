import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { LaneEvent, LaneOptions } from './lane.js';
import { LaneCore } from './lane-core.js';
import type { FromLaneThread, ToLaneThread } from './thread-messages.js';

// The forwarding thread's entry: a LaneCore fed by the main thread. Its event loop sees only the
// target's sockets and the main thread's messages, so a call's slot is reused within a short
// turn even while the main thread is busy accepting a burst of submissions.
const port = parentPort;
if (!port) throw new Error('lane-thread must run as a worker thread');

const post = (message: FromLaneThread) => port.postMessage(message);
let pending: LaneEvent[] = [];
let flushQueued = false;
/** Events go back in one message per turn of this loop, not one per event. */
const flush = () => {
  flushQueued = false;
  if (pending.length === 0) return;
  const events = pending;
  pending = [];
  post({ type: 'events', events });
};
const core = new LaneCore(workerData as LaneOptions, (event) => {
  pending.push(event);
  if (!flushQueued) {
    flushQueued = true;
    // Two check phases later, after undici has written the next request on the connection that
    // just freed up (it waits one check phase to reuse a socket): posting wakes the main
    // thread, which on a shared core would otherwise run before that write.
    setImmediate(() => setImmediate(flush));
  }
});

/** Linux names the calling thread's id in /proc/thread-self; elsewhere there is none to give. */
function ownThreadId(): number | null {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}

post({ type: 'ready', threadId: ownThreadId() });

port.on('message', (message: ToLaneThread) => {
  if (message.type === 'jobs') {
    core.enqueue(message.jobs);
    return;
  }
  void core.drain(message.graceMs).then(async (unstarted) => {
    flush();
    await core.close();
    post({ type: 'drained', unstarted });
  });
});
