/** What this process has under way when a stop begins, or when a second signal cuts it short. */
export interface StopWork {
  callsHere: number;
  deliveriesHere: number;
  /** Callbacks waiting for a retry that the stop makes within its grace or gives up. */
  retriesHere: number;
}

/**
 * What the stop waits for: the calls in flight, the callback deliveries under way and, on the
 * memory store, the callbacks waiting for a retry, which all get the same grace. With none, a
 * grace said would read as a wait to come.
 */
export function graceLine(work: StopWork, graceMs: number): string {
  const { callsHere, deliveriesHere, retriesHere } = work;
  const callbacks = callbackWork(work);
  if (callsHere === 0 && callbacks.length === 0) return 'no call in flight';
  const grace = `up to ${graceMs / 1000} s (--shutdown-grace)`;
  const verb = callsHere + deliveriesHere + retriesHere === 1 ? 'gets' : 'get';
  if (callsHere === 0) return `no call in flight; ${listed(callbacks)} ${verb} ${grace}`;
  return `${listed([callsInFlight(callsHere), ...callbacks])} ${verb} ${grace}`;
}

/**
 * What a second signal cuts off, named as graceLine names it: a stop that waited for callbacks
 * alone cuts off no call, and a callback waiting for a retry is no delivery under way.
 */
export function cutOffLine(work: StopWork): string {
  const cut = [
    ...(work.callsHere > 0 ? [callsInFlight(work.callsHere)] : []),
    ...callbackWork(work),
  ];
  return cut.length === 0 ? 'exiting now' : `exiting now, ${listed(cut)} cut off`;
}

function callbackWork({ deliveriesHere, retriesHere }: StopWork): string[] {
  return [
    ...(deliveriesHere > 0 ? [callbackDeliveries(deliveriesHere)] : []),
    ...(retriesHere > 0 ? [callbacksWaiting(retriesHere)] : []),
  ];
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  const last = items.at(-1) ?? '';
  return items.length < 2 ? last : `${items.slice(0, -1).join(', ')} and ${last}`;
}

function callsInFlight(count: number): string {
  return count === 1 ? '1 call in flight' : `${count} calls in flight`;
}

function callbackDeliveries(count: number): string {
  return count === 1 ? '1 callback delivery' : `${count} callback deliveries`;
}

function callbacksWaiting(count: number): string {
  return count === 1 ? '1 callback waiting for a retry' : `${count} callbacks waiting for a retry`;
}
