import { Client, type Dispatcher } from 'undici';
import { type Clock, isWithin, systemClock, type Timer } from '../clock.js';
import type { TargetConfig } from '../config/config.js';
import { taskErrorOf } from './error-codes.js';

/** How long an ask waits for the answer to a HEAD before it says the target gave none. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * The longest one HEAD is kept waiting for its answer. A target that vanished without closing
 * the connection (a network partition) would read as busy until TCP gave up, minutes later; a
 * new HEAD finds it out within its connect timeout. A busy target's accept queue takes one given
 * up HEAD a minute rather than one at every probe.
 */
export const PROBE_HOLD_MS = 60_000;
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
/** The oldest last answer an ask takes instead of waiting: older, it may say the wrong thing. */
export const PROBE_STALE_MS = 60_000;

/**
 * A target that takes as many calls as the proxy's cap lets through is busy with them all while
 * it works as it should: the probe is one call more, and a target that serves one at a time holds
 * it until a call ends. Reading that as unreachable made `/health` degraded, and
 * `proxy_target_up` 0, for as long as the proxy ran at full capacity. With no call in flight the
 * silence has no such reason: the target is hung (stopped, deadlocked), and said to be.
 */
const SILENT = `accepted the connection but gave no answer to HEAD within ${PROBE_TIMEOUT_MS / 1000} s`;
const BUSY = `${SILENT}: busy with the proxy's calls in flight`;
const HUNG = `${SILENT}, with no call of the proxy's in flight: hung?`;
const NO_CONNECTION = `no connection to the target within ${PROBE_TIMEOUT_MS / 1000} s`;

export interface ProbeResult {
  reachable: boolean;
  latencyMs: number | null;
  /**
   * Why the target is not reachable, as a task's error would say it, or why a reachable one gave
   * no answer; null when it answered.
   */
  message: string | null;
}

export interface TargetProbeOptions {
  /** Replaces the probe's connection in tests (e.g. undici's MockAgent). */
  dispatcher?: Dispatcher;
  clock?: Clock;
  /** How many calls to the target are in flight (on every instance sharing the store). */
  callsInFlight?: () => Promise<number>;
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
  readonly #callsInFlight: () => Promise<number>;
  #probe: Promise<ProbeResult> | null = null;
  /**
   * The HEAD under way, kept until the target answers it (up to PROBE_HOLD_MS); null when it
   * gave no answer. One given up waits on in a busy target's accept queue, and a single-threaded
   * target's short backlog filled with them until it refused the next probe's connection.
   */
  #head: Promise<ProbeResult | null> | null = null;
  /** Whether the probe's connection is up (for HTTPS, its TLS handshake done). */
  #connected = false;
  #last: { at: number; result: ProbeResult } | null = null;

  constructor(target: TargetConfig, options: TargetProbeOptions = {}) {
    this.#target = target;
    this.#clock = options.clock ?? systemClock;
    this.#callsInFlight = options.callsInFlight ?? (async () => 0);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Client(target.origin, {
        headersTimeout: 0,
        bodyTimeout: PROBE_TIMEOUT_MS,
        connect: { timeout: PROBE_TIMEOUT_MS },
      });
    this.#dispatcher.on('connect', () => {
      this.#connected = true;
    });
    this.#dispatcher.on('disconnect', () => {
      this.#connected = false;
    });
  }

  probe(): Promise<ProbeResult> {
    const last = this.#last;
    const now = this.#clock.now();
    if (last !== null && isWithin(last.at, now, PROBE_FRESH_MS)) {
      return Promise.resolve(last.result);
    }
    this.#probe ??= this.#run().then((result) => {
      this.#probe = null;
      this.#last = { at: this.#clock.now(), result };
      return result;
    });
    return last !== null && isWithin(last.at, now, PROBE_STALE_MS)
      ? this.#orAfterPatience(this.#probe, last.result)
      : this.#probe;
  }

  #orAfterPatience(probe: Promise<ProbeResult>, last: ProbeResult): Promise<ProbeResult> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(last), PROBE_PATIENCE_MS);
      const settle = (result: ProbeResult) => {
        this.#clock.clearTimeout(timer);
        resolve(result);
      };
      probe.then(settle, () => settle(last));
    });
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  async #run(): Promise<ProbeResult> {
    this.#head ??= this.#sendHead().finally(() => {
      this.#head = null;
    });
    let timer: Timer | undefined;
    const silence = new Promise<null>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(null), PROBE_TIMEOUT_MS);
    });
    const answer = await Promise.race([this.#head, silence]);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    return answer ?? (await this.#silent());
  }

  /** What a HEAD without an answer says: busy with the proxy's calls, hung, or not reached. */
  async #silent(): Promise<ProbeResult> {
    const unreachable = (message: string) => ({ reachable: false, latencyMs: null, message });
    if (!this.#connected) return unreachable(NO_CONNECTION);
    const calls = await this.#callsInFlight().catch(() => 0);
    return calls > 0 ? { reachable: true, latencyMs: null, message: BUSY } : unreachable(HUNG);
  }

  async #sendHead(): Promise<ProbeResult | null> {
    const started = performance.now();
    const giveUp = new AbortController();
    const timer = this.#clock.setTimeout(() => giveUp.abort(), PROBE_HOLD_MS);
    timer.unref?.();
    try {
      const response = await this.#dispatcher.request({
        origin: this.#target.origin,
        path: this.#target.basePath || '/',
        method: 'HEAD',
        headersTimeout: 0,
        bodyTimeout: PROBE_TIMEOUT_MS,
        signal: giveUp.signal,
      });
      await response.body.dump();
      return {
        reachable: true,
        latencyMs: Math.round(performance.now() - started),
        message: null,
      };
    } catch (error) {
      if (giveUp.signal.aborted) return null;
      return { reachable: false, latencyMs: null, message: taskErrorOf(error).message };
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }
}
