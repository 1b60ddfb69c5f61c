import { Client, type Dispatcher } from 'undici';
import type { TargetConfig } from '../config/config.js';

const PROBE_TIMEOUT_MS = 2_000;

export interface ProbeResult {
  reachable: boolean;
  latencyMs: number | null;
}

/**
 * Answers `/health`'s question: does the target give any HTTP answer to a short `HEAD` of its
 * base path? Its own connection, so a probe never queues behind the forwarded calls; concurrent
 * probes share one request.
 */
export class TargetProbe {
  readonly #target: TargetConfig;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #probe: Promise<ProbeResult> | null = null;

  /** `dispatcher` replaces the probe's connection in tests (e.g. undici's MockAgent). */
  constructor(target: TargetConfig, dispatcher?: Dispatcher) {
    this.#target = target;
    this.#ownsDispatcher = dispatcher === undefined;
    this.#dispatcher =
      dispatcher ??
      new Client(target.origin, {
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
        connect: { timeout: PROBE_TIMEOUT_MS },
      });
  }

  probe(): Promise<ProbeResult> {
    this.#probe ??= this.#run().finally(() => {
      this.#probe = null;
    });
    return this.#probe;
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  async #run(): Promise<ProbeResult> {
    const started = performance.now();
    try {
      const response = await this.#dispatcher.request({
        origin: this.#target.origin,
        path: this.#target.basePath || '/',
        method: 'HEAD',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
      });
      await response.body.dump();
      return { reachable: true, latencyMs: Math.round(performance.now() - started) };
    } catch {
      return { reachable: false, latencyMs: null };
    }
  }
}
