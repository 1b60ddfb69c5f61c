import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Linux: gives every thread of this process but `keepThreadId` at least niceness `nice`: the main
 * thread, V8's garbage-collection helpers, libuv's pool. Threads started later by the main thread
 * inherit its niceness. A thread already nicer is left alone (going back would need privileges).
 * Returns how many threads were lowered; 0 where there is no /proc/self/task.
 */
export function lowerPriorityExcept(keepThreadId: number, nice: number): number {
  let threads: string[];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const entry of threads) {
    const threadId = Number(entry);
    if (threadId === keepThreadId) continue;
    try {
      if (getPriority(threadId) < nice) {
        setPriority(threadId, nice);
        lowered++;
      }
    } catch {
      // The thread ended between listing and renicing.
    }
  }
  return lowered;
}
