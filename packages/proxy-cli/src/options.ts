import type { Priority } from 'proxy-client';
import type { TaskStatus } from 'proxy-client/wire';

export const DEFAULT_URL = 'http://localhost:8080';
export const DEFAULT_CLEANUP_HOURS = 24;
/** How often `--stats --watch` reads the stats again, unless `--poll-interval` says. */
export const DEFAULT_STATS_REFRESH_MS = 2000;

export const DEMO_NAMES = ['single', 'batch', 'queue-full', 'long', 'fail'] as const;
export type DemoName = (typeof DEMO_NAMES)[number];
/**
 * Set by `npm run demo`, which stops its proxy when the demo ends: the closing hint then says
 * so instead of suggesting commands against a proxy that is gone.
 */
export const DEMO_PROXY_STOPS_ENV = 'PROXY_CLI_DEMO_PROXY_STOPS';

/** Where `--data` comes from: inline JSON (checked, kept as typed), a file (`@path`) or stdin (`@-`). */
export type DataSource =
  | { kind: 'inline'; json: string }
  | { kind: 'file'; path: string }
  | { kind: 'stdin' };

/** `--submit <path>` and the flags that go with it. */
export interface SubmitAction {
  path: string;
  method: string;
  data?: DataSource;
  wait: boolean;
  idempotencyKey?: string;
  priority?: Priority;
  callbackUrl?: string;
  maxAttempts?: number;
  maxQueueTimeMs?: number;
  upstreamTimeoutMs?: number;
  /** `--header`: for the target, by name as typed. */
  headers?: Record<string, string>;
}

/** The one thing a run does; exactly one per call. */
export type Action =
  | {
      kind: 'demo';
      demos: readonly DemoName[];
      /** The proxy goes away when the demo ends (`npm run demo`), so no hint may point at it. */
      proxyStops?: boolean;
    }
  /** `watch`: `--stats --watch`, reading the stats again every `refreshMs`. */
  | { kind: 'stats'; watch?: { refreshMs: number } }
  | { kind: 'task'; taskId: string; wait: boolean }
  | { kind: 'list'; status?: TaskStatus; limit?: number; offset?: number }
  | ({ kind: 'submit' } & SubmitAction)
  | { kind: 'cancel'; taskId: string }
  | { kind: 'retry'; taskId: string; wait: boolean }
  /** `--watch`: every task's changes; `statuses` keeps those in these statuses only. */
  | { kind: 'watch'; statuses?: readonly TaskStatus[] }
  | { kind: 'cleanup'; maxAgeHours: number }
  | { kind: 'health' };

/** Everything argv and the environment decide, checked and typed. */
export interface CliOptions {
  action: Action;
  /** Proxy base URL, from `--url`, `PROXY_URL` or the default. */
  url: string;
  /** Where `url` came from, so a resume hint can repeat it only when it has to. */
  urlSource: 'flag' | 'env' | 'default';
  apiKey?: string;
  apiKeySource?: 'flag' | 'env';
  json: boolean;
  /** False with `--no-color`; `NO_COLOR` and TTY checks happen in output.ts. */
  color: boolean;
  /** Fixed poll interval; absent means the SDK's adaptive schedule. */
  pollIntervalMs?: number;
  /** Longest wait for a task before giving up with exit 124; absent means no limit. */
  timeoutMs?: number;
  /**
   * Started by `npx` or `npm exec`, which put the bin on PATH for this run only: a command line
   * to paste must go through npx too, or the shell finds no `proxy-cli`.
   */
  runByNpx?: true;
}
