export interface SlowTargetOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Delay before every answer when the request names none, in milliseconds. @default 0 */
  defaultDelayMs?: number;
  /** Keep every request's method and target (path and query) for `requests()`. @default false */
  recordRequests?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** The request target as received: path and query string. */
  url: string;
  /** When it arrived, epoch ms. */
  at: number;
}

export interface TargetStats {
  inFlight: number;
  /** The most requests that were ever being handled at once since the last reset. */
  maxInFlight: number;
  requests: number;
  /** Requests whose client closed the connection before the answer was complete. */
  closedEarly: number;
  byPath: Record<string, number>;
}

export interface SlowTarget {
  url: string;
  host: string;
  port: number;
  stats(): TargetStats;
  /** Every request received, in order, when started with `recordRequests`; else empty. */
  requests(): RecordedRequest[];
  resetStats(): void;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}

export function startSlowTarget(options?: SlowTargetOptions): Promise<SlowTarget>;
export function binaryPattern(size: number): Buffer;
