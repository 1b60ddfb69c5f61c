import { Client, type Dispatcher } from 'undici';
import { type Clock, isWithin, systemClock } from '../clock.js';
import type { TargetConfig } from '../config/config.js';
import { taskErrorOf } from './error-codes.js';

const PROBE_TIMEOUT_MS = 2_000;
/**
 * How long an answer stands for the target's state. Load balancers and scrapers ask every few
 * seconds each, and none of them should add calls to the target or wait up to the timeout on
 * every ask (a liveness check of 1 s would fail on a target slow to answer HEAD).
 */
export const PROBE_FRESH_MS = 5_000;
/**
 * How long an ask waits for a new probe before it takes the last answer. A busy or hung target
 * holds a probe up to its timeout, and a liveness check with Kubernetes' default timeout of 1 s,
 * asking every 10 s, found every ask starting a probe and waiting the full 2 s.
 */
export const PROBE_PATIENCE_MS = 500;

/**
 * A target that takes as many calls as the proxy's cap lets through is busy with them all while
 * it works as it should: the probe is one call more, and a target that serves one at a time holds
 * it until a call ends. Reading that as unreachable made `/health` degraded, and
 * `proxy_target_up` 0, for as long as the proxy ran at full capacity.
 */
const BUSY = `accepted the connection but gave no answer to HEAD within ${PROBE_TIMEOUT_MS / 1000} s: busy with its calls, or hung (a hung target's calls end upstream_timeout)`;

/** The connection was made (connecting has its own timeout) and the answer did not come. */
function isSilentAfterConnecting(error: unknown): boolean {
  const { code } = error as { code?: unknown };
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

export interface ProbeResult {
  reachable: boolean;
  latencyMs: number | null;
  /**
   * Why the target is not reachable, as a task's error would say it, or why a reachable one gave
   * no answer; null when it answered.
   */
  message: string | null;
}

/**
 * Answers `/health`'s and `/metrics`' question: does the target take a connection for a short
 * `HEAD` of its base path, and answer it? Its own connection, so a probe never queues behind the
 * forwarded calls; concurrent asks share one request, an answer stands for PROBE_FRESH_MS, and
 * once there is one, an ask waits at most PROBE_PATIENCE_MS for the next.
 */
export class TargetProbe {
  readonly #target: TargetConfig;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #clock: Clock;
  #probe: Promise<ProbeResult> | null = null;
  #last: { at: number; result: ProbeResult } | null = null;

  /** `dispatcher` replaces the probe's connection in tests (e.g. undici's MockAgent). */
  constructor(target: TargetConfig, dispatcher?: Dispatcher, clock: Clock = systemClock) {
    this.#target = target;
    this.#clock = clock;
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
    const last = this.#last;
    if (last !== null && isWithin(last.at, this.#clock.now(), PROBE_FRESH_MS)) {
      return Promise.resolve(last.result);
    }
    this.#probe ??= this.#run().then((result) => {
      this.#probe = null;
      this.#last = { at: this.#clock.now(), result };
      return result;
    });
    return last === null ? this.#probe : this.#orAfterPatience(this.#probe, last.result);
  }

  #orAfterPatience(probe: Promise<ProbeResult>, last: ProbeResult): Promise<ProbeResult> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(last), PROBE_PATIENCE_MS);
      void probe.then((result) => {
        this.#clock.clearTimeout(timer);
        resolve(result);
      });
    });
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
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
      });
      await response.body.dump();
      return {
        reachable: true,
        latencyMs: Math.round(performance.now() - started),
        message: null,
      };
    } catch (error) {
      if (isSilentAfterConnecting(error))
        return { reachable: true, latencyMs: null, message: BUSY };
      return { reachable: false, latencyMs: null, message: taskErrorOf(error).message };
    }
  }
}
