import type { FastifyBaseLogger } from 'fastify';
import type { StoreKind } from 'proxy-client/wire';
import type { Dispatcher } from 'undici';
import { onTestFinished } from 'vitest';
import type { TaskBackend } from '../src/engine/task-backend.js';
import type { CallbackState } from '../src/engine/task-record.js';
import { Callbacks } from '../src/proxy/callbacks.js';
import type { TaskViews } from '../src/proxy/task-views.js';
import { FakeClock } from './engine/harness.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** The callback URL unless a test names its own: nothing listens on port 9. */
export const CALLBACK_URL = 'http://127.0.0.1:9/hook?token=secret';

export const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A receiver's answer: a status, a status with headers, or none ever ('hang'). */
export type ScriptedAnswer =
  | number
  | 'hang'
  | { statusCode: number; headers: Record<string, string> };

/** One line Callbacks logged. */
export interface LoggedLine {
  fields: unknown;
  message: string;
}

/** A logger that keeps the info lines and the warnings Callbacks logs (its errors go nowhere). */
export function keptLog() {
  const infos: LoggedLine[] = [];
  const warnings: LoggedLine[] = [];
  const log = {
    error: () => undefined,
    warn: (fields: unknown, message: string) => warnings.push({ fields, message }),
    info: (fields: unknown, message: string) => infos.push({ fields, message }),
  } as unknown as FastifyBaseLogger;
  return { log, infos, warnings };
}

/** Answers each delivery with the next of `answers` (then 200). */
export function dispatcherAnswering(answers: ScriptedAnswer[]) {
  let requests = 0;
  const dispatcher = {
    request: async ({ signal }: { signal: AbortSignal }) => {
      const answer = answers[requests++] ?? 200;
      if (answer === 'hang') {
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      const { statusCode, headers } =
        typeof answer === 'number' ? { statusCode: answer, headers: {} } : answer;
      return { statusCode, headers, body: { dump: async () => undefined } };
    },
  } as unknown as Dispatcher;
  return { dispatcher, requests: () => requests };
}

export interface CallbacksOnOptions {
  /** @default 2 */
  maxAttempts?: number;
  /** @default CALLBACK_URL */
  url?: string;
}

export interface CallbacksUnderTest {
  callbacks: Callbacks;
  clock: FakeClock;
  /** Each callback as saved, in order. */
  saved: CallbackState[];
  infos: LoggedLine[];
  warnings: LoggedLine[];
  /** What onSettled heard: delivered or given up. */
  settled: boolean[];
  /** The process-long cut-off signal Callbacks keeps private. */
  cutOff: AbortSignal;
}

/**
 * Callbacks over a store of `kind` holding `due` callbacks, each due at once, on a FakeClock;
 * without a `dispatcher`, delivered over HTTP by the one Callbacks makes.
 */
export async function callbacksOn(
  kind: StoreKind,
  due: number,
  dispatcher: Dispatcher | undefined,
  { maxAttempts = 2, url = CALLBACK_URL }: CallbacksOnOptions = {},
): Promise<CallbacksUnderTest> {
  const saved: CallbackState[] = [];
  const backend = {
    kind,
    subscribe: () => ({ close: () => undefined }),
    pendingCallbacks: async () =>
      Array.from({ length: due }, (_, n) => ({
        id: idOf(n),
        callback: { url, state: 'pending', deliveries: [], nextAt: null },
      })),
    setCallback: async (_id: string, callback: CallbackState) => {
      saved.push(callback);
      return true;
    },
  } as unknown as TaskBackend;
  const { log, infos, warnings } = keptLog();
  const settled: boolean[] = [];
  const clock = new FakeClock();
  // The cut-off controller is private: caught as the constructor makes it.
  const made: AbortController[] = [];
  const Original = globalThis.AbortController;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made.push(this);
    }
  };
  let callbacks: Callbacks;
  try {
    callbacks = new Callbacks({
      backend,
      tasks: { get: async (id: string) => ({ id, status: 'completed' }) } as unknown as TaskViews,
      clock,
      log,
      secret: SECRET,
      maxAttempts,
      allows: () => true,
      firstRetryMs: 1_000,
      ...(dispatcher && { dispatcher }),
      onSettled: (delivered) => settled.push(delivered),
    });
  } finally {
    globalThis.AbortController = Original;
  }
  onTestFinished(() => callbacks.stop());
  await callbacks.start();
  const cutOff = made[0]?.signal;
  if (!cutOff) throw new Error('Callbacks made no AbortController');
  return { callbacks, clock, saved, infos, warnings, settled, cutOff };
}
