import type { ProxyError } from './errors/proxy-error.js';
import type { OutageListener } from './options.js';

/**
 * Tells `onOutage` of the proxy going away or coming back. The listener only reports: its throw
 * (or an async one's rejection, which would go unhandled and end the process) must not end the
 * wait or the stream it is told about, just when that is riding an outage out.
 */
export function notifyOutage(
  listener: OutageListener | undefined,
  error: ProxyError | undefined,
): void {
  if (listener === undefined) return;
  try {
    Promise.resolve(listener(error)).catch(() => undefined);
  } catch {
    // Ignored for the reason above.
  }
}
