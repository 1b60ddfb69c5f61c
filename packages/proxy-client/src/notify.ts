/**
 * Tells a listener that only reports (`onOutage`, `onOpen`) what happened. Its throw (or an async
 * one's rejection, which would go unhandled and end the process) must not end the wait or the
 * stream it is told about, just when that is riding an outage out or has just connected.
 */
export function notify<T>(listener: ((value: T) => unknown) | undefined, value: T): void {
  if (listener === undefined) return;
  try {
    Promise.resolve(listener(value)).catch(() => undefined);
  } catch {
    // Ignored for the reason above.
  }
}
